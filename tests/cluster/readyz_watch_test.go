// readyz_watch_test.go - watches a node's GET /readyz while it catches up and
// records every 200 it gave while its applied index was still far behind the
// cluster: a restarted node must not take traffic before it holds the data.
package cluster

import (
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// readyLagMax is the gateway's GW_READY_LAG_MAX: /readyz tolerates this lag.
const readyLagMax = 1000

type readyzBody struct {
	Status  string `json:"status"`
	Applied uint64 `json:"applied_index"`
}

// readyzWatch polls one node's /readyz every 5 ms until stopped.
type readyzWatch struct {
	stop     chan struct{}
	wg       sync.WaitGroup
	notReady atomic.Int64 // 503 answers seen
	mu       sync.Mutex
	early    []string       // 200 answers with applied_index + readyLagMax < mustHave
	why      map[string]int // the 503s' messages and how often each came
}

// watchReadyz starts the poll; mustHave is the index every acknowledged write
// had reached before the node lost its data.
func watchReadyz(c *Cluster, n *Node, mustHave uint64) *readyzWatch {
	w := &readyzWatch{stop: make(chan struct{}), why: map[string]int{}}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			w.poll(c, n, mustHave)
		}
	}()
	return w
}

func (w *readyzWatch) poll(c *Cluster, n *Node, mustHave uint64) {
	resp, err := c.quick.Get(n.URL() + "/readyz")
	if err != nil {
		return // not listening yet
	}
	defer resp.Body.Close()
	if resp.StatusCode == 503 {
		w.notReady.Add(1)
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.NewDecoder(resp.Body).Decode(&e) == nil {
			w.mu.Lock()
			w.why[e.Error.Message]++
			w.mu.Unlock()
		}
		return
	}
	var b readyzBody
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&b) != nil {
		return
	}
	if b.Applied+readyLagMax < mustHave {
		w.mu.Lock()
		w.early = append(w.early, fmt.Sprintf("ready with applied_index %d", b.Applied))
		w.mu.Unlock()
	}
}

// check stops the poll and fails the test on any early 200.
func (w *readyzWatch) check(t *testing.T, n *Node, mustHave uint64) {
	t.Helper()
	close(w.stop)
	w.wg.Wait()
	if len(w.early) > 0 {
		t.Fatalf("node %d answered /readyz 200 while far behind index %d (%d times; first: %s)",
			n.ID, mustHave, len(w.early), w.early[0])
	}
	t.Logf("node %d: /readyz 503 %d times while catching up to %d (%v), never 200 before",
		n.ID, w.notReady.Load(), mustHave, w.why)
}

// fillUntilCommitted writes distinct keys through the leader with 16 writers
// until its commit index reaches target (at most 30 s); returns the index.
func fillUntilCommitted(t *testing.T, c *Cluster, leader *Node, target uint64) uint64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var wg sync.WaitGroup
	var done atomic.Bool
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for seq := 0; !done.Load() && time.Now().Before(deadline); seq++ {
				Put(leader, fmt.Sprintf("fill/%d/%d", id, seq), "v", nil)
			}
		}(i)
	}
	defer func() { done.Store(true); wg.Wait() }()
	for time.Now().Before(deadline) {
		if s, err := c.Status(leader); err == nil && s.CommitIndex >= target {
			return s.CommitIndex
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the leader did not commit index %d within 30 s", target)
	return 0
}
