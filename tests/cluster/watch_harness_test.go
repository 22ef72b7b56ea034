// watch_harness_test.go - a resuming watcher and a recording writer for the
// watch tests (watch_test.go): the watcher follows GET /v1/watch as a user
// would, reconnecting to the next node by from_index whenever its
// connection drops, its node dies or stalls, or it is told slow_watcher.
package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// WatchLine is one NDJSON line of a watch stream (or one element of a long poll).
type WatchLine struct {
	Type        string `json:"type"`
	Key         string `json:"key"`
	Value       string `json:"value"`
	Encoding    string `json:"encoding"`
	CreateIndex uint64 `json:"create_index"`
	ModIndex    uint64 `json:"mod_index"`
	Index       uint64 `json:"index"`
	Code        string `json:"code"`
}

// watchIdle: no line for this long (progress lines come every 5 s) means the node stalled.
const watchIdle = 8 * time.Second

var streamClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// Watcher streams one prefix's changes from the cluster, resuming by index.
type Watcher struct {
	Prefix string
	Nodes  []*Node // tried in turn, starting with the first

	mu         sync.Mutex
	events     []WatchLine // put and delete lines, in the order received
	next       uint64      // the from_index of the next connection
	progress   uint64      // highest index a progress line reported
	reconnects int
	problems   []string // order violations seen while streaming
	stop       chan struct{}
	done       chan struct{}
}

func StartWatcher(prefix string, nodes []*Node, from uint64) *Watcher {
	w := &Watcher{Prefix: prefix, Nodes: nodes, next: from,
		stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *Watcher) run() {
	defer close(w.done)
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		w.stream(w.Nodes[i%len(w.Nodes)])
		w.mu.Lock()
		w.reconnects++
		w.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
}

// stream follows one connection until it ends, stalls or the watcher stops.
func (w *Watcher) stream(n *Node) {
	w.mu.Lock()
	from := w.next
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	u := fmt.Sprintf("%s/v1/watch?prefix=%s&from_index=%d", n.URL(), url.QueryEscape(w.Prefix), from)
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	idle := time.AfterFunc(watchIdle, cancel)
	defer idle.Stop()
	go func() {
		select {
		case <-w.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	resp, err := streamClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		if resp.StatusCode == 410 {
			w.note("410 compacted resuming from %d on node %d", from, n.ID)
		}
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		idle.Reset(watchIdle)
		var l WatchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			w.note("bad line from node %d: %q", n.ID, sc.Text())
			return
		}
		if !w.take(n, l) {
			return
		}
	}
}

// take records one line; false ends the connection (an error line).
func (w *Watcher) take(n *Node, l WatchLine) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch l.Type {
	case "put", "delete":
		if l.ModIndex < w.next {
			w.problems = append(w.problems, fmt.Sprintf("node %d sent index %d below from %d (a repeat)", n.ID, l.ModIndex, w.next))
			return true
		}
		w.events = append(w.events, l)
		w.next = l.ModIndex + 1 // one change per entry in these tests
	case "progress":
		if l.Index+1 < w.next {
			w.problems = append(w.problems, fmt.Sprintf("node %d progress %d went back below %d", n.ID, l.Index, w.next-1))
		}
		if l.Index+1 > w.next {
			w.next = l.Index + 1
		}
		if l.Index > w.progress {
			w.progress = l.Index
		}
	case "error":
		if l.Code == "compacted" {
			w.problems = append(w.problems, fmt.Sprintf("node %d: compacted at %d", n.ID, l.Index))
		} else if l.Index > w.next {
			w.problems = append(w.problems, fmt.Sprintf("node %d: %s resumes at %d past %d", n.ID, l.Code, l.Index, w.next))
		}
		return false
	default:
		w.problems = append(w.problems, fmt.Sprintf("node %d: unknown line type %q", n.ID, l.Type))
	}
	return true
}

func (w *Watcher) note(format string, args ...interface{}) {
	w.mu.Lock()
	w.problems = append(w.problems, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

// WaitPast waits until the watcher has seen everything up to index.
func (w *Watcher) WaitPast(t *testing.T, index uint64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		next := w.next
		w.mu.Unlock()
		if next > index {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("watcher of %q did not get past index %d in %v (next %d)", w.Prefix, index, limit, w.next)
}

func (w *Watcher) Stop() []WatchLine {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WatchLine(nil), w.events...)
}

// LongPoll is one GET /v1/watch with wait=: the status, the changes and X-Raft-Index.
func LongPoll(n *Node, query string) (int, []WatchLine, uint64, []byte) {
	r := do("GET", n.URL()+"/v1/watch?"+query, nil, nil)
	if r.Err != nil {
		return 0, nil, 0, nil
	}
	idx, _ := strconv.ParseUint(r.Header.Get("X-Raft-Index"), 10, 64)
	var ls []WatchLine
	if r.Status == 200 {
		if err := json.Unmarshal(r.Body, &ls); err != nil {
			return -1, nil, idx, r.Body
		}
	}
	return r.Status, ls, idx, r.Body
}

// Dump reads every change of prefix a node's history holds up to index, by long polls.
func Dump(t *testing.T, n *Node, prefix string, upto uint64) []WatchLine {
	t.Helper()
	var all []WatchLine
	from := uint64(1)
	for from <= upto {
		st, ls, idx, body := LongPoll(n, fmt.Sprintf("prefix=%s&from_index=%d&wait=2s", url.QueryEscape(prefix), from))
		if st != 200 {
			t.Fatalf("dump of node %d from %d: %d %s", n.ID, from, st, body)
		}
		all = append(all, ls...)
		if idx+1 <= from && len(ls) == 0 {
			t.Fatalf("dump of node %d: no progress at %d (X-Raft-Index %d)", n.ID, from, idx)
		}
		from = idx + 1
	}
	return all
}

// ackedWrite is one write the cluster acknowledged, with the index it answered.
type ackedWrite struct {
	Key, Value string
	Delete     bool
	ModIndex   uint64
}

// Writer puts (and sometimes deletes) keys under a prefix with unique values, recording acks.
type Writer struct {
	mu       sync.Mutex
	acked    []ackedWrite
	tried    map[string]bool // values written (acked or not)
	maxIndex uint64
	stop     chan struct{}
	wg       sync.WaitGroup
}

func StartWriter(c *Cluster, prefix string, clients int) *Writer {
	wr := &Writer{tried: map[string]bool{}, stop: make(chan struct{})}
	for i := 0; i < clients; i++ {
		wr.wg.Add(1)
		go wr.client(c, prefix, i)
	}
	return wr
}

func (wr *Writer) client(c *Cluster, prefix string, id int) {
	defer wr.wg.Done()
	for seq := 0; ; seq++ {
		select {
		case <-wr.stop:
			return
		default:
		}
		n := c.Nodes[(id+seq)%len(c.Nodes)]
		key := fmt.Sprintf("%s%d-%d", prefix, id, seq%5)
		value := fmt.Sprintf("v-%d-%d", id, seq)
		del := seq%7 == 6
		wr.mu.Lock()
		wr.tried[value] = true
		wr.mu.Unlock()
		var r Reply
		if del {
			r = Delete(n, key, nil)
		} else {
			r = Put(n, key, value, nil)
		}
		if r.Err != nil || (r.Status != 200 && r.Status != 201 && r.Status != 204) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		idx, _ := strconv.ParseUint(r.Header.Get("X-Raft-Index"), 10, 64)
		if !del {
			if res, err := r.Write(); err == nil {
				idx = res.ModIndex
			}
		}
		wr.mu.Lock()
		wr.acked = append(wr.acked, ackedWrite{Key: key, Value: value, Delete: del, ModIndex: idx})
		if idx > wr.maxIndex {
			wr.maxIndex = idx
		}
		wr.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
}

func (wr *Writer) Stop() {
	close(wr.stop)
	wr.wg.Wait()
}
