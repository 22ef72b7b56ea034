// faults_test.go - processes die and stall under load: kill -9 of each role
// on the leader and on a follower (F3, F4), SIGSTOP of the leader (F14), of a
// follower's storaged under a linearizable read, and stopping every node
// (F10). Acknowledged writes must survive; histories must be linearizable.
package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writesResume waits until a write through some node succeeds again and
// returns how long it took.
func writesResume(t *testing.T, c *Cluster, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		for _, n := range c.Nodes {
			if p := n.proc("gatewayd"); p == nil || p.exited() {
				continue
			}
			if Put(n, "probe", time.Now().String(), nil).Status == 200 {
				return time.Since(start)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("writes did not resume within %v", limit)
	return 0
}

func TestKillEachRoleUnderLoad(t *testing.T) {
	c := NewCluster(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	for _, role := range roles {
		for _, onLeader := range []bool{true, false} {
			time.Sleep(700 * time.Millisecond)
			leader := c.Leader(10 * time.Second)
			victim := leader
			if !onLeader {
				victim = c.Followers(leader)[0]
			}
			c.Kill(victim, role)
			took := writesResume(t, c, 10*time.Second)
			time.Sleep(300 * time.Millisecond)
			c.Start(victim, role)
			c.WaitReady(20 * time.Second)
			t.Logf("kill -9 %s on node %d (leader=%v): writes served again after %v; restarted and ready",
				role, victim.ID, onLeader, took.Round(time.Millisecond))
		}
	}
	time.Sleep(500 * time.Millisecond)
	checkWorkloadSurvived(t, w)
}

// TestKillStoragedWithCompaction: storaged applies without syncing LMDB and
// syncs every --sync-ms (here 300 ms, slower than 32 entries at this load),
// and raftd's snapshots (every 32 entries, no copy) are taken at storaged's
// durable index, so the log never loses what a crash of LMDB takes back. kill -9 of storaged on the leader and on a follower, three times
// each under load: every acknowledged write survives on every node, the
// history is linearizable and every node catches up (replaying from the log).
func TestKillStoragedWithCompaction(t *testing.T) {
	c := NewClusterWith(t, 3, nil, map[string][]string{
		"raftd":    {"--snapshot-entries", "32"},
		"storaged": {"--sync-ms", "300"},
	})
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	for round := 0; round < 6; round++ {
		time.Sleep(400 * time.Millisecond)
		leader := c.Leader(10 * time.Second)
		victim := leader
		if round%2 == 1 {
			victim = c.Followers(leader)[0]
		}
		c.Kill(victim, "storaged")
		time.Sleep(200 * time.Millisecond)
		c.Start(victim, "storaged")
		c.WaitReady(20 * time.Second)
		t.Logf("round %d: kill -9 storaged on node %d (leader=%v), restarted and ready", round, victim.ID, victim == leader)
	}
	time.Sleep(500 * time.Millisecond)
	checkWorkloadSurvived(t, w)
	snaps, held := 0, 0
	for _, n := range c.Nodes {
		b, _ := os.ReadFile(filepath.Join(n.Dir, "raftd.log"))
		snaps += strings.Count(string(b), "snapshot at storaged's durable index (no copy)")
		held += strings.Count(string(b), "compaction held at storaged's durable index")
	}
	if snaps == 0 {
		t.Fatalf("no snapshot at storaged's durable index: the test did not exercise compaction")
	}
	t.Logf("snapshots at storaged's durable index (no copy): %d; compactions held below a later image: %d", snaps, held)
}

// checkWorkloadSurvived stops w and checks what a test of faults under load
// ends with: every process alive, the history linearizable, every
// acknowledged write present on every node, and every node caught up to the
// leader's commit index.
func checkWorkloadSurvived(t *testing.T, w *Workload) {
	t.Helper()
	w.Stop()
	w.C.CheckAlive()
	t.Logf("workload: %d unique writes acknowledged, %d refused or unknown", w.Acked.Load(),
		w.Unknown.Load())
	w.H.Check(t)
	for _, n := range w.C.Nodes {
		w.H.CheckAcked(t, n)
	}
	checkCaughtUp(t, w.C)
}

// checkCaughtUp: every node's applied index reaches the leader's commit index.
func checkCaughtUp(t *testing.T, c *Cluster) {
	t.Helper()
	leader := c.Leader(10 * time.Second)
	ls, err := c.Status(leader)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range c.Nodes {
		for {
			s, err := c.Status(n)
			if err == nil && s.AppliedIndex >= ls.CommitIndex {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("node %d did not catch up to commit %d: %+v %v", n.ID, ls.CommitIndex, s, err)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("every node applied up to the leader's commit index %d", ls.CommitIndex)
}

func TestSigstopLeader(t *testing.T) {
	c := NewCluster(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(time.Second)
	old := c.Leader(10 * time.Second)
	before, _ := c.Status(old)
	for _, r := range roles {
		c.Signal(old, r, syscall.SIGSTOP)
	}
	var next *Node
	deadline := time.Now().Add(10 * time.Second)
	for next == nil && time.Now().Before(deadline) {
		for _, f := range c.Followers(old) {
			if s, err := c.Status(f); err == nil && s.Role == "leader" && s.Term > before.Term {
				next = f
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if next == nil {
		t.Fatalf("no new leader while node %d is stopped", old.ID)
	}
	time.Sleep(time.Second)
	for _, r := range roles {
		c.Signal(old, r, syscall.SIGCONT)
	}
	time.Sleep(1500 * time.Millisecond)
	if s, err := c.Status(old); err != nil || s.Role == "leader" {
		t.Errorf("old leader after resuming: %+v %v (want a follower)", s, err)
	}
	checkWorkloadSurvived(t, w)
	t.Logf("SIGSTOP of leader %d: node %d took over; the old leader stepped down on resume; history linearizable", old.ID, next.ID)
}

func TestRestartAllNodes(t *testing.T) {
	c := NewCluster(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(2 * time.Second)
	w.Stop()
	for _, n := range c.Nodes {
		c.KillNode(n)
	}
	for _, n := range c.Nodes {
		c.StartNode(n)
	}
	c.WaitReady(30 * time.Second)
	c.Leader(10 * time.Second)
	h.Check(t)
	for _, n := range c.Nodes {
		h.CheckAcked(t, n)
	}
	t.Logf("kill -9 of all 9 processes and restart: %d acknowledged writes all present", w.Acked.Load())
}

// A follower whose storaged is stopped keeps an LMDB file that its gateway
// reads directly (--local-reads) and that holds the value from before a
// write the others committed since: a linearizable GET through it must not
// answer that value (its read index is above the file's applied index, so
// the read waits for storaged), and answers the new one once storaged runs.
func TestLinearizableReadStoragedStopped(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	if r := Put(leader, "lin", "old", nil); r.Status != 200 {
		t.Fatalf("put old: %v", r)
	}
	deadline := time.Now().Add(5 * time.Second)
	for string(Get(f, "lin", "consistency=stale").Body) != "old" {
		if time.Now().After(deadline) {
			t.Fatalf("node %d never applied the first write", f.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Signal(f, "storaged", syscall.SIGSTOP)
	stopped := true
	defer func() {
		if stopped {
			c.Signal(f, "storaged", syscall.SIGCONT)
		}
	}()
	if r := Put(leader, "lin", "new", nil); r.Status != 200 {
		t.Fatalf("put new while node %d's storaged is stopped: %v", f.ID, r)
	}
	r1 := Get(f, "lin", "timeout=1s")
	r := r1
	if r.Status == 200 && string(r.Body) == "old" {
		t.Fatalf("a linearizable GET through node %d (storaged stopped) answered %q, "+
			"the value from before an acknowledged write (X-Raft-Index %s)",
			f.ID, r.Body, r.Header.Get("X-Raft-Index"))
	}
	if r.Status == 200 {
		t.Fatalf("a linearizable GET through node %d answered %q while its storaged is stopped", f.ID, r.Body)
	}
	c.Signal(f, "storaged", syscall.SIGCONT)
	stopped = false
	r = Get(f, "lin", "")
	if r.Status != 200 || string(r.Body) != "new" {
		t.Fatalf("after SIGCONT, GET through node %d: %v (want new)", f.ID, r)
	}
	t.Logf("node %d, storaged stopped: linearizable GET answered %d %s; after SIGCONT %q",
		f.ID, r1.Status, r1.ErrorCode(), r.Body)
}
