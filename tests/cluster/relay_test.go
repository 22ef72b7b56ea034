// relay_test.go - writes through followers are carried by their raftd to the
// leader's raftd (raftd_relay.c): each is applied once, also when the leader's
// raftd stalls with relays queued and their answers come late.
package cluster

import (
	"fmt"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

type relayAttempt struct {
	key   string
	node  *Node
	res   WriteResult
	acked bool
}

// relayWriters puts unique keys through the followers until stop is closed.
func relayWriters(followers []*Node, clients int, stop chan struct{}) (func() []relayAttempt, *sync.WaitGroup) {
	var mu sync.Mutex
	var attempts []relayAttempt
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				n := followers[(id+seq)%len(followers)]
				key := fmt.Sprintf("relay-%d-%d", id, seq)
				w, err := Put(n, key, "v", nil).Write()
				mu.Lock()
				attempts = append(attempts, relayAttempt{key, n, w, err == nil})
				mu.Unlock()
			}
		}(i)
	}
	return func() []relayAttempt { mu.Lock(); defer mu.Unlock(); return attempts }, &wg
}

// TestRelayedWritesApplyOnce stalls the leader's raftd (SIGSTOP, shorter than an
// election timeout) five times while 8 clients write unique keys through the
// followers, so relays queue at the leader and their answers come late. Every
// key written must hold one apply (create_index == mod_index), every
// acknowledged one its answered index. A gateway that proposed an unanswered
// relay again would apply it twice (make gw-bugs-relay).
func TestRelayedWritesApplyOnce(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	followers := c.Followers(leader)
	stop := make(chan struct{})
	attempts, wg := relayWriters(followers, 8, stop)
	for i := 0; i < 5; i++ {
		time.Sleep(300 * time.Millisecond)
		c.Signal(leader, "raftd", syscall.SIGSTOP)
		time.Sleep(250 * time.Millisecond)
		c.Signal(leader, "raftd", syscall.SIGCONT)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if l := c.Leader(10 * time.Second); l.ID != leader.ID {
		t.Logf("leadership moved to node %d during the stalls", l.ID)
	}
	acked, twice := 0, 0
	for _, a := range attempts() {
		g := Get(a.node, a.key, "")
		if g.Status == 404 {
			if a.acked {
				t.Errorf("acknowledged write of %s (index %d) lost", a.key, a.res.ModIndex)
			}
			continue
		}
		if g.Status != 200 {
			t.Fatalf("GET %s on node %d: %s", a.key, a.node.ID, g)
		}
		create, _ := strconv.ParseUint(g.Header.Get("X-Create-Index"), 10, 64)
		mod, _ := strconv.ParseUint(g.Header.Get("X-Mod-Index"), 10, 64)
		if create != mod {
			twice++
			if twice <= 5 {
				t.Errorf("%s through node %d applied more than once: create_index %d, mod_index %d", a.key, a.node.ID, create, mod)
			}
		}
		if a.acked {
			acked++
			if a.res.ModIndex != mod {
				t.Errorf("%s answered mod_index %d, holds %d", a.key, a.res.ModIndex, mod)
			}
		}
	}
	if twice > 0 {
		t.Errorf("%d writes applied more than once", twice)
	}
	relayed, forwarded := uint64(0), uint64(0)
	for _, f := range followers {
		relayed += nodeMetric(t, f, "raftkv_relayed_writes_total")
		forwarded += nodeMetric(t, f, "raftkv_forwarded_requests_total")
	}
	// a relay refused (its connection not up yet, the queue to the leader full) goes over HTTP
	if acked == 0 || relayed == 0 || forwarded*10 > relayed {
		t.Fatalf("acked %d, relayed %d, forwarded %d: the test wrote too little through the relay", acked, relayed, forwarded)
	}
	t.Logf("checked: %d writes (%d acknowledged, %d relayed, %d forwarded) through the followers over 5 stalls of the leader's raftd, each applied once", len(attempts()), acked, relayed, forwarded)
	c.CheckAlive()
}
