// coord_lease_test.go - a lease kept alive across leader changes (SIGSTOP of
// the leader, then kill -9 of the next one) never loses its key early: the
// key is read (linearizably) all along, and it may vanish only ttl_ms after
// the send time of the last keepalive that succeeded; once keepalives stop,
// it does vanish.
package cluster

import (
	"encoding/json"
	"math/rand"
	"sync"
	"syscall"
	"testing"
	"time"
)

// leaseWatch keeps a lease alive from random live nodes and reads its key.
type leaseWatch struct {
	t        *testing.T
	c        *Cluster
	id       string
	ttl      time.Duration
	mu       sync.Mutex
	down     map[int]bool // nodes not to send to (stopped, killed)
	lastOK   time.Time    // send time of the last keepalive answered 200
	okCount  int
	gone     time.Time // when a read first saw the key gone
	stopKA   chan struct{}
	stopRead chan struct{}
	wg       sync.WaitGroup
}

func (w *leaseWatch) node() *Node {
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		n := w.c.Nodes[rand.Intn(len(w.c.Nodes))]
		if !w.down[n.ID] {
			return n
		}
	}
}

func (w *leaseWatch) setDown(n *Node, down bool) {
	w.mu.Lock()
	w.down[n.ID] = down
	w.mu.Unlock()
}

func (w *leaseWatch) keepalives() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stopKA:
			return
		case <-time.After(300 * time.Millisecond):
		}
		sent := time.Now()
		// a holder waits for an answer less than its TTL: a keepalive stuck on a
		// stopped leader must not hold back the next one
		r := do("PUT", w.node().URL()+"/v1/leases/"+w.id+"/keepalive?timeout=1000", nil, nil)
		if r.Err == nil && r.Status == 200 {
			var li leaseInfo
			if json.Unmarshal(r.Body, &li) != nil || li.RemainingMs != li.TTLms {
				w.t.Errorf("keepalive answer: %s", r)
			}
			w.mu.Lock()
			w.lastOK, w.okCount = sent, w.okCount+1
			w.mu.Unlock()
		} else if r.Err != nil || r.Status != 404 {
			w.t.Logf("keepalive %v after the last success: %s", sent.Sub(w.lastOK), r)
		} else {
			w.t.Errorf("keepalive %v after the last success: the lease is gone: %s",
				sent.Sub(w.lastOK), r)
		}
	}
}

func (w *leaseWatch) reads() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stopRead:
			return
		case <-time.After(40 * time.Millisecond):
		}
		g := Get(w.node(), "lock/holder", "")
		at := time.Now()
		if g.Err != nil || g.Status != 404 {
			continue
		}
		w.mu.Lock()
		if w.gone.IsZero() {
			w.gone = at
			if early := w.lastOK.Add(w.ttl).Sub(at); early > 0 {
				w.t.Errorf("the key vanished %v before ttl after the last successful keepalive", early)
			}
		}
		w.mu.Unlock()
	}
}

func TestLeaseSurvivesLeaderChanges(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	const ttl = 4000 * time.Millisecond
	w := &leaseWatch{t: t, c: c, ttl: ttl, down: map[int]bool{},
		stopKA: make(chan struct{}), stopRead: make(chan struct{})}
	w.id = mustGrant(t, leader, int(ttl/time.Millisecond))
	w.lastOK = time.Now()
	if r := do("PUT", kvURL(leader, "lock/holder", "lease="+w.id), []byte("me"), nil); r.Status != 200 {
		t.Fatal(r)
	}
	w.wg.Add(2)
	go w.keepalives()
	go w.reads()

	time.Sleep(2 * time.Second)
	w.setDown(leader, true)
	for _, r := range roles {
		c.Signal(leader, r, syscall.SIGSTOP)
	}
	next := leaseNewLeader(c, leader, 10*time.Second)
	t.Logf("SIGSTOP of leader %d; node %d leads", leader.ID, next.ID)
	time.Sleep(ttl + time.Second) // longer than the TTL: only keepalives keep it
	for _, r := range roles {
		c.Signal(leader, r, syscall.SIGCONT)
	}
	w.setDown(leader, false)
	time.Sleep(time.Second)

	w.setDown(next, true)
	c.KillNode(next)
	third := leaseNewLeader(c, next, 10*time.Second)
	t.Logf("kill -9 of leader %d; node %d leads", next.ID, third.ID)
	time.Sleep(ttl + time.Second)

	close(w.stopKA) // the holder dies: the key must go, but not before ttl after the last success
	deadline := time.Now().Add(ttl + 5*time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		gone := w.gone
		w.mu.Unlock()
		if !gone.IsZero() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(w.stopRead)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gone.IsZero() {
		t.Fatalf("the key outlived its lease: last keepalive %v ago", time.Since(w.lastOK))
	}
	t.Logf("%d keepalives succeeded; the key went %v after the last one's send (ttl %v)",
		w.okCount, w.gone.Sub(w.lastOK), ttl)
	c.StartNode(next)
}

// leaseNewLeader waits for a node other than old (stopped or dead) to lead.
func leaseNewLeader(c *Cluster, old *Node, limit time.Duration) *Node {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, f := range c.Followers(old) {
			if p := f.proc("gatewayd"); p == nil || p.exited() {
				continue
			}
			if s, err := c.Status(f); err == nil && s.Role == "leader" {
				return f
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no new leader after node %d within %v", old.ID, limit)
	return nil
}
