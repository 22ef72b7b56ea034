// history_test.go - concurrent clients whose histories are checked for
// linearizability with porcupine, plus the "every acknowledged write is
// still there" check. Failing histories are saved as porcupine's HTML.
package cluster

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

type kvInput struct {
	Op    string // "put" or "get"
	Key   string
	Value string
}

type kvOutput struct {
	Value   string
	Found   bool
	Unknown bool // a put whose outcome is unknown (timeout, 504, dropped connection)
}

// kvModel is a register per key: puts set it, gets must see the latest.
var kvModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).Key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() interface{} { return kvOutput{} },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st := state.(kvOutput)
		in := input.(kvInput)
		out := output.(kvOutput)
		if in.Op == "put" {
			return true, kvOutput{Value: in.Value, Found: true}
		}
		return out.Found == st.Found && out.Value == st.Value, st
	},
	DescribeOperation: func(input, output interface{}) string {
		in := input.(kvInput)
		out := output.(kvOutput)
		if in.Op == "put" {
			if out.Unknown {
				return fmt.Sprintf("put(%s, %s) -> unknown", in.Key, in.Value)
			}
			return fmt.Sprintf("put(%s, %s)", in.Key, in.Value)
		}
		if !out.Found {
			return fmt.Sprintf("get(%s) -> not found", in.Key)
		}
		return fmt.Sprintf("get(%s) -> %s", in.Key, out.Value)
	},
}

// History records operations from many goroutines.
type History struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	// acked unique-key writes: key -> value; they must all survive
	acked map[string]string
}

func NewHistory() *History {
	return &History{start: time.Now(), acked: map[string]string{}}
}

func (h *History) now() int64 { return int64(time.Since(h.start)) }

func (h *History) add(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// recordPut performs a put and records it. Returns whether it was acknowledged.
func (h *History) recordPut(client int, n *Node, key, value string) bool {
	call := h.now()
	r := Put(n, key, value, nil)
	ret := h.now()
	out := kvOutput{}
	refused := r.Err == nil && ((r.Status >= 400 && r.Status < 500) || r.Status == 503 || r.Status == 507)
	switch {
	case r.Err == nil && r.Status == 200:
	case refused:
		// refused before Raft took it (bad input, busy, no leader, full): never
		// applied. 503 is only sent when no proposal was made; 504 means unknown.
		return false
	default:
		out.Unknown = true
		ret = int64(^uint64(0) >> 1) // may take effect any time after the call
	}
	h.add(porcupine.Operation{ClientId: client, Input: kvInput{"put", key, value}, Call: call, Output: out, Return: ret})
	return !out.Unknown
}

// recordGet performs a linearizable get and records it when it answered.
func (h *History) recordGet(client int, n *Node, key string) {
	call := h.now()
	r := Get(n, key, "")
	ret := h.now()
	var out kvOutput
	switch {
	case r.Err == nil && r.Status == 200:
		out = kvOutput{Value: string(r.Body), Found: true}
	case r.Err == nil && r.Status == 404:
		out = kvOutput{Found: false}
	default:
		return // no answer: a failed read observed nothing
	}
	h.add(porcupine.Operation{ClientId: client, Input: kvInput{"get", key, ""}, Call: call, Output: out, Return: ret})
}

// Check runs porcupine; on a violation the visualization is saved and the test fails.
func (h *History) Check(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	res, info := porcupine.CheckOperationsVerbose(kvModel, h.ops, 60*time.Second)
	switch res {
	case porcupine.Ok:
		t.Logf("linearizability: %d operations checked, ok", len(h.ops))
	case porcupine.Unknown:
		t.Logf("linearizability: %d operations, checker timed out (inconclusive)", len(h.ops))
	default:
		dir := os.Getenv("RAFTKV_TEST_OUT")
		if dir == "" {
			dir = t.TempDir()
		}
		_ = os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, t.Name()+"-history.html")
		_ = porcupine.VisualizePath(kvModel, info, path)
		t.Errorf("linearizability violated in %d operations; visualization: %s", len(h.ops), path)
	}
}

// Workload runs clients against random nodes until stop is closed: each
// client writes and reads a few rotating shared keys (histories stay small
// per key) and writes unique keys whose acknowledged values must survive.
type Workload struct {
	H       *History
	C       *Cluster
	Clients int
	stop    chan struct{}
	wg      sync.WaitGroup
	Acked   atomic.Int64
	Unknown atomic.Int64
	Prefix  string // before every key: a later workload with its own history starts on empty keys
}

func StartWorkload(c *Cluster, h *History, clients int) *Workload {
	return StartWorkloadPrefixed(c, h, clients, "")
}

// StartWorkloadPrefixed is StartWorkload on keys that start with prefix.
func StartWorkloadPrefixed(c *Cluster, h *History, clients int, prefix string) *Workload {
	w := &Workload{H: h, C: c, Clients: clients, stop: make(chan struct{}), Prefix: prefix}
	for i := 0; i < clients; i++ {
		w.wg.Add(1)
		go w.client(i)
	}
	return w
}

func (w *Workload) client(id int) {
	defer w.wg.Done()
	rng := rand.New(rand.NewSource(int64(id) + time.Now().UnixNano()))
	for seq := 0; ; seq++ {
		select {
		case <-w.stop:
			return
		default:
		}
		nodes := w.C.NodeList() // nodes may join meanwhile (NewJoiner)
		n := nodes[rng.Intn(len(nodes))]
		if p := n.proc("gatewayd"); p == nil || p.exited() {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		shared := w.Prefix + fmt.Sprintf("shared-%d-%d", seq/150, rng.Intn(3))
		switch rng.Intn(3) {
		case 0:
			w.H.recordGet(id, n, shared)
		case 1:
			w.H.recordPut(id, n, shared, fmt.Sprintf("c%d-%d", id, seq))
		default:
			key := w.Prefix + fmt.Sprintf("unique-%d-%d", id, seq)
			val := fmt.Sprintf("v%d", seq)
			if w.H.recordPut(id, n, key, val) {
				w.Acked.Add(1)
				w.H.mu.Lock()
				w.H.acked[key] = val
				w.H.mu.Unlock()
			} else {
				w.Unknown.Add(1)
			}
		}
	}
}

func (w *Workload) Stop() {
	close(w.stop)
	w.wg.Wait()
}

// CheckAcked reads every acknowledged unique key from node n (linearizably).
func (h *History) CheckAcked(t *testing.T, n *Node) {
	t.Helper()
	h.mu.Lock()
	acked := make(map[string]string, len(h.acked))
	for k, v := range h.acked {
		acked[k] = v
	}
	h.mu.Unlock()
	lost := 0
	for k, v := range acked {
		var r Reply
		for try := 0; try < 20; try++ {
			r = Get(n, k, "")
			if r.Err == nil && (r.Status == 200 || r.Status == 404) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if r.Status != 200 || string(r.Body) != v {
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged write %s=%s lost: %s", k, v, r)
			}
		}
	}
	t.Logf("acknowledged writes: %d checked on node %d, %d lost", len(acked), n.ID, lost)
}
