// partition_test.go - F2: silent network partitions between separate hosts
// (netns_test.go): a leader cut off in the minority, a bridge node that
// alone hears both halves, a leader that can send but not receive, and a
// five-node ring where every node hears only its two neighbours.
// Throughout, at most one node may call itself leader in any term, the
// minority never acknowledges a write or answers a linearizable read, and the
// history of concurrent clients must be linearizable with nothing acked lost.
package cluster

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// probeDeadline is the gateway deadline of probe requests: short, so a
// partition window holds several of them.
const probeDeadline = "timeout=1500ms"

// probeSeq keeps the values of probe writes unique within the test binary.
var probeSeq atomic.Int64

// leaderWatch samples every node's /v1/status until stopped and remembers
// which nodes called themselves leader in which term.
type leaderWatch struct {
	c       *Cluster
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	leaders map[uint64]map[uint64]bool
	samples int
	once    sync.Once
}

// watchLeaders starts sampling; a test that stops early ends it on cleanup.
func watchLeaders(t *testing.T, c *Cluster) *leaderWatch {
	w := &leaderWatch{c: c, stop: make(chan struct{}), done: make(chan struct{}),
		leaders: map[uint64]map[uint64]bool{}}
	go w.run()
	t.Cleanup(w.halt)
	return w
}

func (w *leaderWatch) halt() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

func (w *leaderWatch) run() {
	defer close(w.done)
	for {
		for _, n := range w.c.NodeList() { // a joiner may be added meanwhile
			s, err := w.c.Status(n)
			if err != nil {
				continue
			}
			w.mu.Lock()
			w.samples++
			if s.Role == "leader" {
				if w.leaders[s.Term] == nil {
					w.leaders[s.Term] = map[uint64]bool{}
				}
				w.leaders[s.Term][s.ID] = true
			}
			w.mu.Unlock()
		}
		select {
		case <-w.stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Check stops sampling and fails the test if a term had two leaders.
func (w *leaderWatch) Check(t *testing.T) {
	t.Helper()
	w.halt()
	w.mu.Lock()
	defer w.mu.Unlock()
	var terms []string
	for term, ids := range w.leaders {
		var list []string
		for id := range ids {
			list = append(list, fmt.Sprint(id))
		}
		sort.Strings(list)
		terms = append(terms, fmt.Sprintf("%d:%s", term, strings.Join(list, "+")))
		if len(ids) > 1 {
			t.Errorf("term %d had %d leaders: nodes %v", term, len(ids), list)
		}
	}
	sort.Strings(terms)
	t.Logf("election safety: %d status samples, leaders by term [%s], at most one per term",
		w.samples, strings.Join(terms, " "))
}

// probePut writes through node n with a short deadline and records the
// write in h: acknowledged (200) or, for any other answer, of unknown outcome.
func probePut(h *History, client int, n *Node, key, value string) Reply {
	call := h.now()
	r := do("PUT", kvURL(n, key, probeDeadline), []byte(value), nil)
	ret := h.now()
	out := kvOutput{}
	if r.Err != nil || r.Status != 200 {
		out.Unknown = true
		ret = int64(^uint64(0) >> 1)
	}
	h.add(porcupine.Operation{ClientId: client, Input: kvInput{"put", key, value},
		Call: call, Output: out, Return: ret})
	return r
}

// probeGet reads linearizably through node n with a short deadline and
// records an answer (200 or 404) in h.
func probeGet(h *History, client int, n *Node, key string) Reply {
	call := h.now()
	r := do("GET", kvURL(n, key, probeDeadline), nil, nil)
	ret := h.now()
	if r.Err == nil && (r.Status == 200 || r.Status == 404) {
		out := kvOutput{Found: r.Status == 200, Value: string(r.Body)}
		if !out.Found {
			out.Value = ""
		}
		h.add(porcupine.Operation{ClientId: client, Input: kvInput{"get", key, ""},
			Call: call, Output: out, Return: ret})
	}
	return r
}

// answerKind names a reply for the tallies the tests print.
func answerKind(r Reply) string {
	if r.Err != nil {
		return "transport-error"
	}
	return fmt.Sprint(r.Status)
}

func tally(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s x%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func ids(nodes []*Node) []int {
	var out []int
	for _, n := range nodes {
		out = append(out, n.ID)
	}
	return out
}

// newPartitionCluster starts n nodes, each in its own namespace.
func newPartitionCluster(t *testing.T, n int) (*Cluster, *Netns) {
	t.Helper()
	nn := NewNetns(t, n)
	c := NewClusterPlaced(t, n, nn.Place)
	mustBeAlive(t, c)
	return c, nn
}

// mustBeAlive stops the test when a process died (the harness's readiness
// wait skips a dead gateway, and the end checks would wait on it per key).
func mustBeAlive(t *testing.T, c *Cluster) {
	t.Helper()
	failed := t.Failed()
	c.CheckAlive()
	if !failed && t.Failed() {
		t.FailNow()
	}
}

// waitNewLeader waits for one of nodes to lead in a term above term.
func waitNewLeader(c *Cluster, nodes []*Node, term uint64, limit time.Duration) (*Node, uint64) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if s, err := c.Status(n); err == nil && s.Role == "leader" && s.Term > term {
				return n, s.Term
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, 0
}

// writeOK waits until a write through n is acknowledged; false at limit.
func writeOK(h *History, client int, n *Node, key string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for i := 0; time.Now().Before(deadline); i++ {
		value := fmt.Sprintf("w%d", probeSeq.Add(1))
		if probePut(h, client, n, key, value).Status == 200 {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// finish stops the workload and runs the end-of-test checks every
// partition test shares.
func finish(t *testing.T, c *Cluster, h *History, w *Workload, lw *leaderWatch) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	w.Stop()
	mustBeAlive(t, c)
	lw.Check(t)
	t.Logf("workload: %d unique writes acknowledged, %d refused or unknown",
		w.Acked.Load(), w.Unknown.Load())
	h.Check(t)
	for _, n := range c.Nodes {
		h.CheckAcked(t, n)
	}
	checkCaughtUp(t, c)
}

// minorityProbes sends writes and linearizable reads to the cut-off node
// until end and tallies the answers; none may be a success.
type minorityProbes struct {
	mu     sync.Mutex
	writes map[string]int
	reads  map[string]int
	keys   []string
	bad    int
}

func (p *minorityProbes) run(t *testing.T, h *History, n *Node, end time.Time) {
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; time.Now().Before(end); i++ {
				if g%2 == 0 {
					key := fmt.Sprintf("minority-%d-%d", g, i)
					r := probePut(h, 100+g, n, key, "must-not-commit")
					p.note(t, "write", key, r)
				} else {
					r := probeGet(h, 100+g, n, "split")
					p.note(t, "read", "", r)
				}
			}
		}(g)
	}
	wg.Wait()
}

func (p *minorityProbes) note(t *testing.T, kind, key string, r Reply) {
	p.mu.Lock()
	defer p.mu.Unlock()
	bad := ""
	if kind == "write" {
		p.writes[answerKind(r)]++
		p.keys = append(p.keys, key)
		if r.Err == nil && r.Status == 200 {
			bad = "acknowledged write " + key
		}
	} else {
		p.reads[answerKind(r)]++
		if r.Err == nil && (r.Status == 200 || r.Status == 404) {
			bad = "answered a linearizable read"
		}
	}
	if bad != "" {
		p.bad++
		if p.bad <= 5 {
			t.Errorf("the cut-off node %s: %s", bad, r)
		}
	}
}

// leaderUnderLoad starts a 3-node partition cluster with a workload, waits
// for a leader and a write acknowledged through it, and returns the leader,
// its status and the other nodes' ids: the start of every test that cuts the
// leader off.
func leaderUnderLoad(t *testing.T) (*Cluster, *Netns, *leaderWatch, *History, *Workload, *Node, *Status, []int) {
	c, nn := newPartitionCluster(t, 3)
	lw := watchLeaders(t, c)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(time.Second)
	old := c.Leader(10 * time.Second)
	if r := probePut(h, 99, old, "split", "v0"); r.Status != 200 {
		t.Fatalf("write before the partition: %s", r)
	}
	before, err := c.Status(old)
	if err != nil {
		t.Fatal(err)
	}
	return c, nn, lw, h, w, old, before, ids(c.Followers(old))
}

func TestPartitionMinorityLeader(t *testing.T) {
	c, nn, lw, h, w, old, before, rest := leaderUnderLoad(t)
	cut := time.Now() // times below count from the first rule going in
	nn.Cut([]int{old.ID}, rest)
	t.Logf("cut leader %d (term %d) off from nodes %v", old.ID, before.Term, rest)

	term, keys := cutOffPhase(t, c, h, old, before.Term, cut, true)
	nn.HealAll()
	healed := time.Now()
	waitRejoined(t, c, old, term, 10*time.Second)
	t.Logf("healed: node %d rejoined as follower after %v", old.ID,
		time.Since(healed).Round(time.Millisecond))
	finish(t, c, h, w, lw)
	checkNeverApplied(t, c, keys)
}

// cutOffPhase runs while old (leader in term before the cut) hears none of
// the others: it probes old for 5s, waits for the others to elect a leader
// (a failure only when mustElect) and keeps that leader overwriting the key
// the probes read, so a stale answer on old is also a linearizability
// violation. It returns the new leader's term and the keys written to old.
func cutOffPhase(t *testing.T, c *Cluster, h *History, old *Node, before uint64,
	cut time.Time, mustElect bool) (uint64, []string) {
	t.Helper()
	probes := &minorityProbes{writes: map[string]int{}, reads: map[string]int{}}
	probesDone := make(chan struct{})
	go func() { probes.run(t, h, old, cut.Add(5*time.Second)); close(probesDone) }()
	next, term := waitNewLeader(c, c.Followers(old), before, 10*time.Second)
	switch {
	case next == nil && mustElect:
		t.Fatalf("the majority elected no leader within 10s")
	case next == nil:
		t.Logf("no new leader within 10s of the cut")
	case !writeOK(h, 98, next, "split", 10*time.Second):
		t.Fatalf("new leader %d (term %d) acknowledged no write within 10s", next.ID, term)
	default:
		t.Logf("majority: node %d leader in term %d, first write acknowledged %v after the cut",
			next.ID, term, time.Since(cut).Round(time.Millisecond))
	}
	if s, err := c.Status(old); err == nil {
		t.Logf("cut-off node %d reports role %s term %d (%v after the cut)", old.ID, s.Role,
			s.Term, time.Since(cut).Round(time.Millisecond))
	}
	majorityAcked := 0
	for waiting := true; waiting; {
		select {
		case <-probesDone:
			waiting = false
		case <-time.After(100 * time.Millisecond):
			v := fmt.Sprintf("m%d", probeSeq.Add(1))
			if next != nil && probePut(h, 98, next, "split", v).Status == 200 {
				majorityAcked++
			}
		}
	}
	t.Logf("majority: %d more writes of the key the cut-off node was read for", majorityAcked)
	probes.report(t)
	return term, probes.keys
}

func (p *minorityProbes) report(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("writes to the cut-off node: %s (none may be 200)", tally(p.writes))
	t.Logf("linearizable reads on it: %s (none may be 200 or 404)", tally(p.reads))
	if p.bad > 0 {
		t.Errorf("the cut-off node answered %d probes it must not have answered", p.bad)
	}
	if len(p.keys) == 0 || len(p.reads) == 0 {
		t.Errorf("the probes of the cut-off node did not finish a request")
	}
}

// waitRejoined waits until n follows in a term at or past term and applied
// what the leader had committed when it rejoined.
func waitRejoined(t *testing.T, c *Cluster, n *Node, term uint64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var s *Status
	var err error
	for time.Now().Before(deadline) {
		s, err = c.Status(n)
		if err == nil && s.Role != "leader" && s.Term >= term && s.Leader != nil {
			ls, lerr := c.Status(c.Leader(limit))
			if lerr == nil && s.AppliedIndex+1 >= ls.CommitIndex {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("node %d did not rejoin as a caught-up follower within %v: %+v %v", n.ID, limit, s, err)
}

// checkNeverApplied: writes the minority took after the cut were never
// replicated, so the new leader's log replaced them; none may exist.
func checkNeverApplied(t *testing.T, c *Cluster, keys []string) {
	t.Helper()
	leader := c.Leader(10 * time.Second)
	found := 0
	for _, k := range keys {
		r := Get(leader, k, "")
		if r.Err != nil || r.Status != 404 {
			found++
			if found <= 5 {
				t.Errorf("write %s sent to the minority: %s (want 404)", k, r)
			}
		}
	}
	t.Logf("%d writes sent to the cut-off leader: %d present at the end (want 0)", len(keys), found)
}

// bridgeWrites writes through node n for the window and counts the
// acknowledged writes in each second of it.
func bridgeWrites(h *History, n *Node, window time.Duration) ([]int, map[string]int) {
	perSec := make([]int, int(window/time.Second))
	answers := map[string]int{}
	start := time.Now()
	for i := 0; time.Since(start) < window; i++ {
		key := fmt.Sprintf("bridge-%d", i/150)
		r := probePut(h, 97, n, key, fmt.Sprintf("b%d", i))
		answers[answerKind(r)]++
		if sec := int(time.Since(start) / time.Second); r.Status == 200 && sec < len(perSec) {
			perSec[sec]++
		}
		time.Sleep(20 * time.Millisecond)
	}
	return perSec, answers
}

func TestPartitionBridge(t *testing.T) {
	c, nn := newPartitionCluster(t, 3)
	lw := watchLeaders(t, c)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(time.Second)
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)
	bridge, far := f[0], f[1]
	// The leader and the far follower lose each other; only the bridge
	// hears both, so the far node's campaigns reach the cluster through it.
	nn.Cut([]int{leader.ID}, []int{far.ID})
	t.Logf("bridge: node %d hears both; leader %d and node %d cannot talk", bridge.ID,
		leader.ID, far.ID)
	perSec, answers := bridgeWrites(h, bridge, 8*time.Second)
	t.Logf("writes through the bridge node, acknowledged per second: %v; answers: %s",
		perSec, tally(answers))
	for sec := 2; sec < len(perSec); sec++ {
		if perSec[sec] == 0 {
			t.Errorf("second %d of the bridge partition acknowledged no write", sec)
		}
	}
	for _, n := range c.Nodes {
		if s, err := c.Status(n); err == nil {
			t.Logf("node %d at the end of the bridge: role %s term %d commit %d", n.ID, s.Role,
				s.Term, s.CommitIndex)
		}
	}
	nn.HealAll()
	for _, n := range c.Nodes {
		if !writeOK(h, 96, n, "after-heal", 10*time.Second) {
			t.Errorf("after healing, no write acknowledged through node %d within 10s", n.ID)
		}
	}
	finish(t, c, h, w, lw)
}

func TestPartitionOneWay(t *testing.T) {
	c, nn, lw, h, w, old, before, rest := leaderUnderLoad(t)
	cut := time.Now()
	nn.Drop(old.ID, rest, true, false)
	t.Logf("one-way: leader %d (term %d) sends to %v but hears nothing from them", old.ID,
		before.Term, rest)
	// What the deaf node sends may still reach the others, so its writes
	// may commit later under a new leader: unknown, never acknowledged.
	cutOffPhase(t, c, h, old, before.Term, cut, false)
	nn.HealAll()
	healed := time.Now()
	for _, n := range c.Nodes {
		if !writeOK(h, 96, n, "after-heal", 10*time.Second) {
			t.Errorf("after healing, no write acknowledged through node %d within 10s", n.ID)
		}
	}
	t.Logf("healed: a write through every node acknowledged within %v",
		time.Since(healed).Round(time.Millisecond))
	finish(t, c, h, w, lw)
}

// TestPartitionRing: five nodes in a ring, each hearing only its two
// neighbours: every node sees a majority (itself and two), no two nodes see
// the same one, so only the sticky leader's neighbourhood may commit.
func TestPartitionRing(t *testing.T) {
	c, nn := newPartitionCluster(t, 5)
	lw := watchLeaders(t, c)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(time.Second)
	leader := c.Leader(10 * time.Second)
	for id := 1; id <= 5; id++ {
		var far []int
		for other := 1; other <= 5; other++ {
			if d := (other - id + 5) % 5; d == 2 || d == 3 {
				far = append(far, other)
			}
		}
		nn.Drop(id, far, true, true)
	}
	t.Logf("ring 1-2-3-4-5-1: each node hears only its neighbours; leader was node %d", leader.ID)
	perSec, answers := bridgeWrites(h, leader, 6*time.Second)
	t.Logf("writes through node %d during the ring, acknowledged per second: %v; answers: %s",
		leader.ID, perSec, tally(answers))
	acked := 0
	for _, n := range perSec[2:] {
		acked += n
	}
	if acked == 0 {
		t.Errorf("no write acknowledged in the last 4s of the ring")
	}
	for _, n := range c.Nodes {
		if s, err := c.Status(n); err == nil {
			t.Logf("node %d in the ring: role %s term %d commit %d", n.ID, s.Role, s.Term,
				s.CommitIndex)
		}
	}
	nn.HealAll()
	for _, n := range c.Nodes {
		if !writeOK(h, 96, n, "after-heal", 10*time.Second) {
			t.Errorf("after healing, no write acknowledged through node %d within 10s", n.ID)
		}
	}
	finish(t, c, h, w, lw)
}
