// member_grow_test.go - growing and shrinking a running cluster under writes
// (issue 11): nodes join with raftd --join (POST /v1/members, then a snapshot
// and the log, then promotion once caught up), voters are removed with
// DELETE /v1/members/{id}; the leader is killed in the middle of an add, and
// a node is added while another is cut off, then the cut-off one removed.
// Histories are checked for linearizability and every acknowledged write
// must be on every remaining node, joined ones included. "Cut off" is
// SIGSTOP of all three processes here, which runs without root;
// member_partition_test.go does the same across a real nftables partition.
package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// memberOf is id's entry in l, or nil.
func memberOf(l memberList, id int) *memberEntry {
	for i := range l.Members {
		if l.Members[i].ID == uint64(id) {
			return &l.Members[i]
		}
	}
	return nil
}

// tryMembers is GET /v1/members through n, or an error (no leader yet, ...).
func tryMembers(n *Node) (memberList, error) {
	var l memberList
	r := do("GET", n.URL()+"/v1/members", nil, nil)
	if r.Err != nil || r.Status != 200 {
		return l, fmt.Errorf("GET /v1/members through node %d: %s", n.ID, r)
	}
	return l, json.Unmarshal(r.Body, &l)
}

// waitMember waits until GET /v1/members through any of via shows id as a
// caught-up member of role, and returns the list that did.
func waitMember(t *testing.T, c *Cluster, via []*Node, id int, role string, limit time.Duration) memberList {
	t.Helper()
	deadline := time.Now().Add(limit)
	last := "no answer"
	for time.Now().Before(deadline) {
		for _, n := range via {
			l, err := tryMembers(n)
			if err != nil {
				last = err.Error()
				continue
			}
			m := memberOf(l, id)
			if m != nil && m.Role == role && m.CaughtUp {
				return l
			}
			last = fmt.Sprintf("%+v", l)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.CheckAlive()
	t.Fatalf("node %d not a caught-up %s within %v; last: %s", id, role, limit, last)
	return memberList{}
}

// joinAndWait starts a new node with raftd --join and waits until it is a caught-up voter.
func joinAndWait(t *testing.T, c *Cluster, via []*Node) *Node {
	t.Helper()
	n := c.NewJoiner()
	startJoiner(t, c, n, via, 60*time.Second)
	return n
}

// startJoiner starts the joiner n (raftd --join) and waits up to limit until the
// nodes via list it as a caught-up voter; logs how long that took.
func startJoiner(t *testing.T, c *Cluster, n *Node, via []*Node, limit time.Duration) {
	t.Helper()
	start := time.Now()
	c.StartNode(n)
	waitMember(t, c, via, n.ID, "voter", limit)
	t.Logf("node %d joined with --join and is a caught-up voter after %v", n.ID,
		time.Since(start).Round(10*time.Millisecond))
}

// newLeaderAmong waits until one of nodes is the leader.
func newLeaderAmong(t *testing.T, c *Cluster, nodes []*Node, limit time.Duration) *Node {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if s, err := c.Status(n); err == nil && s.Role == "leader" {
				return n
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no leader among nodes %v within %v", ids(nodes), limit)
	return nil
}

// without is nodes minus drop.
func without(nodes []*Node, drop ...*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		keep := true
		for _, d := range drop {
			keep = keep && n != d
		}
		if keep {
			out = append(out, n)
		}
	}
	return out
}

// finishMembers stops the workload, stops the nodes no longer members, and checks
// the history and that every remaining member holds every acknowledged write.
func finishMembers(t *testing.T, c *Cluster, h *History, w *Workload, members []*Node) {
	t.Helper()
	time.Sleep(time.Second) // writes go on with the final members
	w.Stop()
	t.Logf("workload: %d unique writes acknowledged, %d refused or unknown", w.Acked.Load(),
		w.Unknown.Load())
	h.Check(t)
	v := voters(c, members[0])
	if len(v) != len(members) {
		t.Errorf("voters %v, want the %d nodes %v", v, len(members), ids(members))
	}
	for _, n := range members {
		if !v[uint64(n.ID)] {
			t.Errorf("node %d is not a voter: %v", n.ID, v)
		}
		h.CheckAcked(t, n)
	}
}

func TestMemberGrowShrinkUnderLoad(t *testing.T) {
	c := NewCluster(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(time.Second)
	first := c.NodeList()
	n4 := joinAndWait(t, c, first)
	n5 := joinAndWait(t, c, first)
	all := c.NodeList()
	if v := voters(c, n5); len(v) != 5 {
		t.Fatalf("after two joins the voters are %v", v)
	}

	leader := c.Leader(10 * time.Second)
	via := without(all, leader)[0]
	if r := removeMember(t, via, leader.ID, 15*time.Second); r.Status != 200 {
		t.Fatalf("removing leader %d through node %d: %s", leader.ID, via.ID, r)
	}
	next := newLeaderAmong(t, c, without(all, leader), 10*time.Second)
	t.Logf("leader %d removed; node %d leads", leader.ID, next.ID)

	second := c.Nodes[1]
	if second == leader || second == next {
		second = without(first, leader, next)[0] // node 2 was the one that left or leads
	}
	if r := removeMember(t, next, second.ID, 15*time.Second); r.Status != 200 {
		t.Fatalf("removing node %d: %s", second.ID, r)
	}
	t.Logf("node %d removed", second.ID)
	remaining := without(all, leader, second)
	newLeaderAmong(t, c, remaining, 10*time.Second)
	for _, gone := range []*Node{leader, second} {
		c.KillNode(gone) // removed: it is no longer sent anything; the workload skips it
	}
	for _, n := range []*Node{n4, n5} {
		found := false
		for _, r := range remaining {
			found = found || r == n
		}
		if !found {
			t.Errorf("joined node %d is not among the remaining %v", n.ID, ids(remaining))
		}
	}
	finishMembers(t, c, h, w, remaining)
}

// postMember sends POST /v1/members for n as raftd --join would.
func postMember(n *Node, via *Node) Reply {
	body := fmt.Sprintf(`{"id":%d,"peer_address":"%s:%d","url":"%s","promote":true}`, n.ID,
		n.Host, n.RaftPort, n.URL())
	return do("POST", via.URL()+"/v1/members", []byte(body),
		map[string]string{"Content-Type": "application/json"})
}

// agreedOn waits until every node of nodes lists the same members in /v1/status, and returns them.
func agreedOn(t *testing.T, c *Cluster, nodes []*Node, limit time.Duration) map[uint64]string {
	t.Helper()
	deadline := time.Now().Add(limit)
	var views []map[uint64]string
	for time.Now().Before(deadline) {
		views = nil
		for _, n := range nodes {
			s, err := identityOf(c, n)
			if err != nil {
				break
			}
			v := map[uint64]string{}
			for _, m := range s.Members {
				v[m.ID] = m.Role
			}
			views = append(views, v)
		}
		same := len(views) == len(nodes)
		for i := 1; same && i < len(views); i++ {
			same = fmt.Sprint(views[i]) == fmt.Sprint(views[0])
		}
		if same {
			return views[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nodes %v do not agree on the members within %v: %v", ids(nodes), limit, views)
	return nil
}

// afterLeaderKilled waits for a leader among survivors and for writes to go on,
// then returns the members the survivors agree on.
func afterLeaderKilled(t *testing.T, c *Cluster, survivors []*Node) map[uint64]string {
	t.Helper()
	newLeaderAmong(t, c, survivors, 10*time.Second)
	writesResume(t, c, 10*time.Second)
	return agreedOn(t, c, survivors, 10*time.Second)
}

func TestMemberKillLeaderMidChange(t *testing.T) {
	c := NewCluster(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 3)
	time.Sleep(time.Second)
	first := c.NodeList()

	// Before the commit: the leader's raftd dies as the POST arrives.
	leader := c.Leader(10 * time.Second)
	n4 := c.NewJoiner()
	answered := make(chan Reply, 1)
	go func() { answered <- postMember(n4, leader) }()
	time.Sleep(2 * time.Millisecond)
	c.Kill(leader, "raftd")
	r := <-answered
	view := afterLeaderKilled(t, c, without(first, leader))
	t.Logf("POST answered %s with the leader killed; node 4 is then %q in %v", r, view[4], view)
	if r.Status == 201 && view[4] == "" {
		t.Errorf("the add was acknowledged (201) but node 4 is not a member: %v", view)
	}
	c.Start(leader, "raftd")
	// the retried add (raftd --join: added, or already there at this address) converges
	c.StartNode(n4)
	waitMember(t, c, first, n4.ID, "voter", 60*time.Second)
	t.Logf("node 4 is a caught-up voter after raftd --join retried the add")

	// After the commit: the leader's raftd dies as soon as it answered.
	leader = c.Leader(10 * time.Second)
	n5 := c.NewJoiner()
	r = postMember(n5, leader)
	c.Kill(leader, "raftd")
	if r.Status != 201 {
		t.Fatalf("POST /v1/members for node 5: %s", r)
	}
	view = afterLeaderKilled(t, c, without(c.NodeList(), leader, n5))
	if view[5] == "" {
		t.Errorf("node 5's add was acknowledged (201) and is gone after the leader died: %v", view)
	}
	c.Start(leader, "raftd")
	c.StartNode(n5) // its raftd --join finds it added at its address (409 member_exists)
	waitMember(t, c, first, n5.ID, "voter", 60*time.Second)
	if log := c.LogTail(n5, "raftd", 400); !strings.Contains(log, "member_exists") {
		t.Errorf("node 5's raftd --join did not meet 409 member_exists for its add:\n%s", log)
	}
	t.Logf("node 5 (added, then its leader killed) is a caught-up voter; its raftd --join " +
		"took 409 member_exists at its own address as already added")
	finishMembers(t, c, h, w, c.NodeList())
}

func TestMemberAddWhilePartitioned(t *testing.T) {
	c := NewCluster(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 3)
	time.Sleep(time.Second)
	first := c.NodeList()
	leader := c.Leader(10 * time.Second)
	cutOff := without(first, leader)[0]
	stopNode(c, cutOff, syscall.SIGSTOP)
	t.Logf("node %d cut off (SIGSTOP)", cutOff.ID)

	n4 := joinAndWait(t, c, without(first, cutOff))
	if r := removeMember(t, n4, cutOff.ID, 15*time.Second); r.Status != 200 {
		t.Fatalf("removing cut-off node %d: %s", cutOff.ID, r)
	}
	t.Logf("cut-off node %d removed; voters %v", cutOff.ID, voters(c, n4))
	stopNode(c, cutOff, syscall.SIGCONT)
	time.Sleep(500 * time.Millisecond) // it comes back removed: it must not disrupt
	c.KillNode(cutOff)
	remaining := without(c.NodeList(), cutOff)
	newLeaderAmong(t, c, remaining, 10*time.Second)
	finishMembers(t, c, h, w, remaining)
}
