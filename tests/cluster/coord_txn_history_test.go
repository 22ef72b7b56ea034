// coord_txn_history_test.go - concurrent transactions over three keys,
// through every node, while the leader is killed (kill -9) and restarted;
// the history is checked for linearizability with porcupine against a
// multi-key model: a transaction's compare must see the state at its
// linearization point, its success branch writes two keys at once, and a
// read-all transaction must see all three keys from one state.
package cluster

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var txnKeys = [3]string{"tx/a", "tx/b", "tx/c"}

// txnState: the three keys; comparable, as porcupine's default equality needs.
type txnState struct {
	V [3]string
	E [3]bool
}

type txnInput struct {
	ReadAll bool
	I, J    int    // CAS: compare key I's value with Want (absent when Want is ""), put I and J
	Want    string // expected value of key I ("" : must not exist)
	NewI    string
	NewJ    string
}

type txnOutput struct {
	Unknown   bool
	Succeeded bool
	Got       txnState // ReadAll: the three keys; CAS failure: keys I and J
}

func txnHolds(st txnState, in txnInput) bool {
	if in.Want == "" {
		return !st.E[in.I]
	}
	return st.E[in.I] && st.V[in.I] == in.Want
}

var txnModel = porcupine.Model{
	Init: func() interface{} { return txnState{} },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		st, in, out := state.(txnState), input.(txnInput), output.(txnOutput)
		if in.ReadAll {
			return out.Got == st, st
		}
		holds := txnHolds(st, in)
		if out.Unknown || holds {
			if !out.Unknown && !out.Succeeded {
				return false, st
			}
			if holds {
				st.V[in.I], st.E[in.I] = in.NewI, true
				st.V[in.J], st.E[in.J] = in.NewJ, true
			}
			return true, st
		}
		ok := !out.Succeeded && out.Got.E[in.I] == st.E[in.I] && out.Got.V[in.I] == st.V[in.I] &&
			out.Got.E[in.J] == st.E[in.J] && out.Got.V[in.J] == st.V[in.J]
		return ok, st
	},
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(txnInput), output.(txnOutput)
		if in.ReadAll {
			return fmt.Sprintf("read -> %v", out.Got)
		}
		return fmt.Sprintf("cas(%s==%q: %s=%s, %s=%s) -> ok=%v unknown=%v got=%v", txnKeys[in.I],
			in.Want, txnKeys[in.I], in.NewI, txnKeys[in.J], in.NewJ, out.Succeeded, out.Unknown, out.Got)
	},
}

type txnHistory struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
}

func (h *txnHistory) now() int64 { return int64(time.Since(h.start)) }

// getsInto fills st's keys from a txn answer's get results (keys in order).
func getsInto(res txnResult, keys []int, st *txnState) bool {
	if len(res.Results) != len(keys) {
		return false
	}
	for i, k := range keys {
		st.E[k] = res.Results[i].Found
		st.V[k] = res.Results[i].Value
	}
	return true
}

func (h *txnHistory) one(client int, n *Node, seq *int, rnd *rand.Rand) {
	var in txnInput
	var body string
	get := func(k int) string { return fmt.Sprintf(`{"op":"get","key":"%s"}`, txnKeys[k]) }
	if rnd.Intn(3) == 0 {
		in.ReadAll = true
		body = `{"success":[` + get(0) + "," + get(1) + "," + get(2) + `]}`
	} else {
		in.I = rnd.Intn(3)
		in.J = (in.I + 1 + rnd.Intn(2)) % 3
		*seq++
		in.Want = fmt.Sprint(rnd.Intn(4)) // values are "", "0".."3": compares often hold
		if in.Want == "0" {
			in.Want = ""
		}
		in.NewI, in.NewJ = fmt.Sprint(rnd.Intn(3)+1), fmt.Sprintf("c%d-%d", client, *seq)
		cmp := fmt.Sprintf(`{"key":"%s","value":"%s"}`, txnKeys[in.I], in.Want)
		if in.Want == "" {
			cmp = fmt.Sprintf(`{"key":"%s","exists":false}`, txnKeys[in.I])
		}
		body = fmt.Sprintf(`{"compare":[%s],"success":[{"op":"put","key":"%s","value":"%s"},
			{"op":"put","key":"%s","value":"%s"}],"failure":[%s,%s]}`, cmp, txnKeys[in.I], in.NewI,
			txnKeys[in.J], in.NewJ, get(in.I), get(in.J))
	}
	call := h.now()
	r := do("POST", n.URL()+"/v1/txn?timeout=2000", []byte(body), nil)
	ret := h.now()
	var out txnOutput
	var res txnResult
	switch {
	case r.Err == nil && r.Status == 200 && json.Unmarshal(r.Body, &res) == nil:
		out.Succeeded = res.Succeeded
		keys := []int{0, 1, 2}
		if !in.ReadAll {
			keys = []int{in.I, in.J}
		}
		if (in.ReadAll || !res.Succeeded) && !getsInto(res, keys, &out.Got) {
			return
		}
	case r.Err == nil && (r.Status == 503 || (r.Status >= 400 && r.Status < 500)):
		return // refused before it was proposed
	default:
		if in.ReadAll {
			return // a read without an answer observed nothing
		}
		out.Unknown = true
		ret = int64(^uint64(0) >> 1)
	}
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
}

func TestTxnLinearizable(t *testing.T) {
	c := NewCluster(t, 3)
	h := &txnHistory{start: time.Now()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var downMu sync.Mutex
	down := map[int]bool{}
	for cl := 0; cl < 4; cl++ {
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(int64(cl) + time.Now().UnixNano()))
			seq := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				downMu.Lock()
				n := c.Nodes[rnd.Intn(len(c.Nodes))]
				skip := down[n.ID]
				downMu.Unlock()
				if skip {
					continue
				}
				h.one(cl, n, &seq, rnd)
				time.Sleep(time.Duration(rnd.Intn(20)) * time.Millisecond)
			}
		}(cl)
	}
	time.Sleep(2 * time.Second)
	leader := c.Leader(10 * time.Second)
	downMu.Lock()
	down[leader.ID] = true
	downMu.Unlock()
	c.KillNode(leader)
	time.Sleep(2 * time.Second)
	c.StartNode(leader)
	downMu.Lock()
	down[leader.ID] = false
	downMu.Unlock()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	res, info := porcupine.CheckOperationsVerbose(txnModel, h.ops, 120*time.Second)
	succeeded := 0
	for _, op := range h.ops {
		if o := op.Output.(txnOutput); o.Succeeded {
			succeeded++
		}
	}
	switch res {
	case porcupine.Ok:
		t.Logf("linearizability: %d transactions (%d succeeded) checked, ok; leader %d killed and restarted",
			len(h.ops), succeeded, leader.ID)
	case porcupine.Unknown:
		t.Logf("linearizability: %d transactions, checker timed out (inconclusive)", len(h.ops))
	default:
		dir := os.Getenv("RAFTKV_TEST_OUT")
		if dir == "" {
			dir = t.TempDir()
		}
		_ = os.MkdirAll(dir, 0o755)
		path := filepath.Join(dir, t.Name()+"-history.html")
		_ = porcupine.VisualizePath(txnModel, info, path)
		t.Errorf("linearizability violated in %d transactions; visualization: %s", len(h.ops), path)
	}
	if succeeded == 0 {
		t.Errorf("no transaction succeeded: the workload checked nothing")
	}
}
