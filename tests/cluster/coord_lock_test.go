// coord_lock_test.go - the lock recipe of docs/api.md ("A lock on a lease and
// a transaction"), run by competing workers while the leader is paused
// (SIGSTOP) and another killed (kill -9): some holders release, some stop
// keeping their lease alive as if they had crashed. Each holder acts only
// until the send time of its last successful keepalive + TTL (or until it
// releases). From the recorded holding intervals, no two may overlap.
package cluster

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

type holding struct {
	worker   int
	token    uint64    // the lock key's mod_index: the fencing token
	from     time.Time // the acquiring transaction's answer
	until    time.Time // release sent, or last successful keepalive's send + TTL
	released bool
}

type lockRun struct {
	c    *Cluster
	ttl  time.Duration
	mu   sync.Mutex
	down map[int]bool
	held []holding
	stop chan struct{}
	wg   sync.WaitGroup
}

func (l *lockRun) node(rnd *rand.Rand) *Node {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		n := l.c.Nodes[rnd.Intn(len(l.c.Nodes))]
		if !l.down[n.ID] {
			return n
		}
	}
}

func (l *lockRun) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

// acquire grants a lease and tries the lock transaction once; 0 when not taken.
func (l *lockRun) acquire(rnd *rand.Rand, worker int) (string, uint64, time.Time) {
	r := do("POST", l.node(rnd).URL()+"/v1/leases?timeout=1000",
		[]byte(fmt.Sprintf(`{"ttl_ms":%d}`, l.ttl/time.Millisecond)), nil)
	var li leaseInfo
	if r.Status != 200 || json.Unmarshal(r.Body, &li) != nil {
		return "", 0, time.Time{}
	}
	body := fmt.Sprintf(`{"compare":[{"key":"locks/job","exists":false}],
		"success":[{"op":"put","key":"locks/job","value":"w%d","lease":"%s"}],
		"failure":[{"op":"get","key":"locks/job"}]}`, worker, li.ID)
	r = do("POST", l.node(rnd).URL()+"/v1/txn?timeout=1000", []byte(body), nil)
	at := time.Now()
	var res txnResult
	if r.Status != 200 || json.Unmarshal(r.Body, &res) != nil || !res.Succeeded {
		// not ours, or unknown: revoke so an unknown success cannot hold it for long
		do("DELETE", l.node(rnd).URL()+"/v1/leases/"+li.ID+"?timeout=1000", nil, nil)
		return "", 0, time.Time{}
	}
	return li.ID, res.Results[0].ModIndex, at
}

// hold keeps the lease alive for a while, then releases it or "crashes".
func (l *lockRun) hold(rnd *rand.Rand, worker int, id string, token uint64, from time.Time) {
	h := holding{worker: worker, token: token, from: from, until: from}
	lastOK := from // conservative: the grant's send time is earlier still
	end := time.Now().Add(time.Duration(300+rnd.Intn(1200)) * time.Millisecond)
	for time.Now().Before(end) && !l.stopped() && time.Now().Before(lastOK.Add(l.ttl)) {
		time.Sleep(l.ttl / 4)
		sent := time.Now()
		r := do("PUT", l.node(rnd).URL()+"/v1/leases/"+id+"/keepalive?timeout=800", nil, nil)
		if r.Status == 200 {
			lastOK = sent
		} else if r.Status == 404 {
			break // lost
		}
	}
	h.until = lastOK.Add(l.ttl)
	if rnd.Intn(2) == 0 && time.Now().Before(h.until) {
		h.until, h.released = time.Now(), true // stop acting, then release
		do("DELETE", l.node(rnd).URL()+"/v1/leases/"+id+"?timeout=1000", nil, nil)
	}
	l.mu.Lock()
	l.held = append(l.held, h)
	l.mu.Unlock()
}

func (l *lockRun) worker(w int) {
	defer l.wg.Done()
	rnd := rand.New(rand.NewSource(time.Now().UnixNano() + int64(w)))
	for !l.stopped() {
		id, token, from := l.acquire(rnd, w)
		if id == "" {
			time.Sleep(time.Duration(50+rnd.Intn(100)) * time.Millisecond)
			continue
		}
		l.hold(rnd, w, id, token, from)
	}
}

func TestLeaseLockOneHolder(t *testing.T) {
	c := NewCluster(t, 3)
	l := &lockRun{c: c, ttl: 2000 * time.Millisecond, down: map[int]bool{}, stop: make(chan struct{})}
	for w := 0; w < 4; w++ {
		l.wg.Add(1)
		go l.worker(w)
	}
	time.Sleep(4 * time.Second)
	leader := c.Leader(10 * time.Second)
	l.mu.Lock()
	l.down[leader.ID] = true
	l.mu.Unlock()
	for _, r := range roles {
		c.Signal(leader, r, syscall.SIGSTOP)
	}
	time.Sleep(4 * time.Second)
	for _, r := range roles {
		c.Signal(leader, r, syscall.SIGCONT)
	}
	l.mu.Lock()
	l.down[leader.ID] = false
	l.mu.Unlock()
	time.Sleep(2 * time.Second)
	next := c.Leader(10 * time.Second)
	l.mu.Lock()
	l.down[next.ID] = true
	l.mu.Unlock()
	c.KillNode(next)
	time.Sleep(5 * time.Second)
	close(l.stop)
	l.wg.Wait()
	c.StartNode(next)

	sort.Slice(l.held, func(i, j int) bool { return l.held[i].from.Before(l.held[j].from) })
	released := 0
	for i, h := range l.held {
		if h.released {
			released++
		}
		if i > 0 {
			p := l.held[i-1]
			if h.from.Before(p.until) {
				t.Errorf("two holders: worker %d (token %d) took the lock %v before worker %d's "+
					"(token %d) hold ended", h.worker, h.token, p.until.Sub(h.from), p.worker, p.token)
			}
			if h.token <= p.token {
				t.Errorf("fencing tokens not increasing: %d then %d", p.token, h.token)
			}
		}
	}
	if len(l.held) < 3 {
		t.Errorf("only %d holdings: the test exercised too little", len(l.held))
	}
	t.Logf("%d holdings (%d released, %d lost by expiry) by 4 workers; leader %d paused, leader %d killed",
		len(l.held), released, len(l.held)-released, leader.ID, next.ID)
}
