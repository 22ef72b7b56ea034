// member_add_test.go - growing a running cluster: a 4th node started with an
// empty data directory and only the seed nodes in --peers (it is not among
// them, so it joins them) is added as a learner through POST /v1/members
// with its peer address, URL and (with Curve) public key, catches up and is
// promoted by itself (promote: true). A 5th, added as a learner after the
// log holding the 4th's addition was compacted, learns the 4th's address
// from the snapshot's address book. The four voters survive the old leader
// being killed; the old leader, restarted with its old --peers, connects to
// the 4th node because its WAL and address book say so; removing the 4th
// node closes every connection to it. Histories are checked as everywhere.
// CLUSTER_CURVE=1 runs it with CurveZMQ: the new members' keys travel in
// the configuration too.
package cluster

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// addMember sends POST /v1/members through n until it is not a retriable
// refusal (409 change_in_progress, 503), within limit.
func addMember(n *Node, body string, limit time.Duration) Reply {
	deadline := time.Now().Add(limit)
	for {
		r := do("POST", n.URL()+"/v1/members", []byte(body), map[string]string{
			"Content-Type": "application/json"})
		retriable := r.Err == nil && (r.Status == 503 || r.Status == 409 &&
			jsonCode(r) == "change_in_progress")
		if !retriable || time.Now().After(deadline) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// connectionsTo counts established TCP connections whose remote end is
// 127.0.0.1:port (other raftds' DEALERs to that node's peer port).
func connectionsTo(t *testing.T, port int) int {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Fatalf("open /proc/net/tcp: %v", err)
	}
	defer f.Close()
	want := fmt.Sprintf("0100007F:%04X", port)
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st ...; st 01 is ESTABLISHED
		if len(fields) > 3 && fields[2] == want && fields[3] == "01" {
			n++
		}
	}
	return n
}

// waitFor polls cond every 100 ms until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}

// joinNode makes node id (not in c.Nodes: the workload never writes
// through it) with ports of its own, and starts its three processes. It
// returns the body that adds it through POST /v1/members.
func joinNode(t *testing.T, c *Cluster, id int, promote bool) (*Node, string) {
	t.Helper()
	base := allocPorts(1)
	n := &Node{ID: id, Host: "127.0.0.1", HTTPPort: base + 1, RaftPort: base + 2,
		Dir: filepath.Join(c.dir, fmt.Sprintf("node%d", id)), Scheme: "http",
		procs: map[string]*proc{}}
	c.gateways += fmt.Sprintf(",%d=%s", id, n.URL())
	key := ""
	if c.curve { // its own key pair; the others learn its public key from the configuration
		dir := c.CurveKeyDir(id)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(filepath.Join(c.binDir, "raftkvctl"), "keygen", "--out", dir).CombinedOutput()
		if err != nil {
			t.Fatalf("raftkvctl keygen: %v\n%s", err, out)
		}
		key = fmt.Sprintf(`,"curve_key":"%s"`, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		for _, r := range roles {
			if p := n.proc(r); p != nil && !p.exited() {
				_ = p.cmd.Process.Signal(syscall.SIGKILL)
				<-p.done
			}
		}
		if t.Failed() {
			for _, r := range roles {
				t.Logf("--- node %d %s log tail:\n%s", id, r, c.LogTail(n, r, 40))
			}
		}
	})
	c.StartNode(n)
	return n, fmt.Sprintf(`{"id":%d,"peer_address":"%s:%d","url":"%s","promote":%v%s}`,
		id, n.Host, n.RaftPort, n.URL(), promote, key)
}

// memberRoleIn is id's role in n's /v1/status members ("" when absent or unknown).
func memberRoleIn(c *Cluster, n *Node, id int) string {
	s, err := identityOf(c, n)
	if err != nil {
		return ""
	}
	return memberRole(s, id)
}

// leaderAmong is whichever of nodes says it leads, within limit (nil: none).
func leaderAmong(c *Cluster, limit time.Duration, nodes ...*Node) *Node {
	var found *Node
	waitFor(limit, func() bool {
		for _, n := range nodes {
			if s, err := identityOf(c, n); err == nil && s.Role == "leader" {
				found = n
				return true
			}
		}
		return false
	})
	return found
}

func appliedOf(c *Cluster, n *Node) uint64 {
	s, err := identityOf(c, n)
	if err != nil {
		return 0
	}
	return s.Applied
}

func TestMemberAddPromoteSurviveRestartRemove(t *testing.T) {
	// frequent snapshots: the 5th node joins past the entry that added the 4th
	c := NewClusterOpts(t, 3, ClusterOpts{Curve: curveFromEnv(),
		Extra: map[string][]string{"raftd": {"--snapshot-entries", "16"}}})
	h := NewHistory()
	w := StartWorkload(c, h, 3)
	time.Sleep(time.Second)
	leader := c.Leader(10 * time.Second)
	via := c.Followers(leader)[0]

	n4, body := joinNode(t, c, 4, true)
	r := addMember(via, body, 15*time.Second)
	if r.Status == 404 || r.Status == 405 {
		w.Stop()
		t.Skipf("POST /v1/members is not served by this gatewayd yet (%s): the route comes "+
			"with the gateway branch", r)
	}
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("adding node 4 through follower %d: %s", via.ID, r)
	}
	t.Logf("node 4 added through follower %d: %s", via.ID, r.Body)
	if r := addMember(via, body, 5*time.Second); r.Status != 409 || jsonCode(r) != "member_exists" {
		t.Errorf("adding node 4 again: %s, want 409 member_exists", r)
	}
	// caught up and promoted by itself, known to every node with its address and URL
	if !waitFor(30*time.Second, func() bool { return memberRoleIn(c, leader, 4) == "voter" }) {
		t.Fatalf("node 4 not promoted within 30 s (role %q)", memberRoleIn(c, leader, 4))
	}
	l := listMembers(t, via)
	for _, m := range l.Members {
		if m.ID == 4 && (m.PeerAddress != fmt.Sprintf("%s:%d", n4.Host, n4.RaftPort) ||
			m.URL == nil || *m.URL != n4.URL()) {
			t.Errorf("member 4 in GET /v1/members: %+v", m)
		}
	}
	if got := connectionsTo(t, n4.RaftPort); got < 3 {
		t.Errorf("%d connections to node 4's peer port, want one from each of 3 nodes", got)
	}
	t.Logf("node 4 is a voter; %d peer connections to it", connectionsTo(t, n4.RaftPort))

	// a learner joining now gets a snapshot: the 4th's address comes with its book
	time.Sleep(time.Second)
	n5, body5 := joinNode(t, c, 5, false)
	if r := addMember(via, body5, 15*time.Second); r.Status != 200 && r.Status != 201 {
		t.Fatalf("adding node 5: %s", r)
	}
	if !waitFor(20*time.Second, func() bool { return appliedOf(c, n5) > 0 }) {
		t.Fatalf("node 5 applied nothing within 20 s")
	}
	if !strings.Contains(c.LogTail(n5, "raftd", 200), "address book from the snapshot") {
		t.Errorf("node 5 did not take an address book from a snapshot")
	}
	if !waitFor(10*time.Second, func() bool { return connectionsTo(t, n4.RaftPort) >= 4 }) {
		t.Errorf("node 5 did not connect to node 4 (%d connections to it)",
			connectionsTo(t, n4.RaftPort))
	}
	if memberRoleIn(c, leader, 5) != "learner" {
		t.Errorf("node 5 is %q, want a learner", memberRoleIn(c, leader, 5))
	}
	t.Logf("node 5 joined by snapshot as a learner and reached node 4 from the snapshot's book")

	// four voters survive the old leader: three of them are a quorum
	c.KillNode(leader)
	next := leaderAmong(c, 15*time.Second, append(c.Followers(leader), n4)...)
	if next == nil {
		t.Fatalf("no leader among the three voters left")
	}
	// through the new leader itself: the seeds' gateways cannot forward to node 4's
	// (their --gateways do not name it; learning URLs from the members is the gateway's)
	before := appliedOf(c, n4)
	for i := 0; i < 30; i++ {
		if r := Put(next, fmt.Sprintf("after-kill-%d", i), "v", nil); r.Status != 200 {
			t.Fatalf("write through the new leader %d: %s", next.ID, r)
		}
	}
	if !waitFor(15*time.Second, func() bool { return appliedOf(c, n4) > before+20 }) {
		t.Fatalf("node 4 applies nothing after leader %d was killed (applied %d)", leader.ID,
			appliedOf(c, n4))
	}
	t.Logf("leader %d killed; node %d leads; node 4 applies", leader.ID, next.ID)

	// restarted with its old --peers (1..3), it reaches node 4 from its book (the
	// workload stops first: it reads the process table that a restart writes; a
	// second one, with its own history, writes through the rest)
	w.Stop()
	h.Check(t)
	c.StartNode(leader)
	c.WaitReady(20 * time.Second)
	if !waitFor(15*time.Second, func() bool { return connectionsTo(t, n4.RaftPort) >= 4 }) {
		t.Fatalf("restarted node %d did not connect to node 4: %d connections", leader.ID,
			connectionsTo(t, n4.RaftPort))
	}
	t.Logf("node %d restarted with --peers 1..3 is connected to node 4", leader.ID)
	h2 := NewHistory()
	w2 := StartWorkloadPrefixed(c, h2, 3, "after-restart-")
	time.Sleep(time.Second)

	// removing node 4 closes every connection to it and stops its log (asked of the
	// leader's gateway: it may be node 4's, which hands over first)
	head := leaderAmong(c, 10*time.Second, append(c.Nodes, n4)...)
	if head == nil {
		t.Fatalf("no leader before removing node 4")
	}
	if r := removeMember(t, head, 4, 15*time.Second); r.Status != 200 {
		t.Fatalf("removing node 4: %s", r)
	}
	if !waitFor(10*time.Second, func() bool { return connectionsTo(t, n4.RaftPort) == 0 }) {
		t.Errorf("%d connections to node 4 left 10 s after its removal", connectionsTo(t, n4.RaftPort))
	}
	stopped := appliedOf(c, n4)
	time.Sleep(2 * time.Second)
	if a := appliedOf(c, n4); a > stopped {
		t.Errorf("removed node 4 still applies entries: %d then %d", stopped, a)
	}
	t.Logf("node 4 removed: no connection to it, its applied index stays %d", stopped)
	if a := appliedOf(c, n5); a <= stopped {
		t.Errorf("learner 5 stopped applying too (%d)", a)
	}
	w2.Stop()
	t.Logf("workloads: %d and %d unique writes acknowledged, %d and %d refused or unknown",
		w.Acked.Load(), w2.Acked.Load(), w.Unknown.Load(), w2.Unknown.Load())
	h2.Check(t)
	for _, n := range c.Nodes {
		h.CheckAcked(t, n)
		h2.CheckAcked(t, n)
	}
}

// Every node writes its address book, seeded from --peers, beside its WAL
// (the file's format, checked from outside raftd).
func TestMemberBookFileWritten(t *testing.T) {
	c := NewClusterOpts(t, 3, ClusterOpts{})
	for _, n := range c.Nodes {
		b, err := os.ReadFile(filepath.Join(n.Dir, "wal", "members"))
		if err != nil {
			t.Fatalf("node %d: %v", n.ID, err)
		}
		if !strings.HasPrefix(string(b), "RKVBOOK1") || len(b) < 8+1+4 {
			t.Fatalf("node %d: members file of %d bytes: %q", n.ID, len(b), b)
		}
		for _, m := range c.Nodes {
			addr := m.Host + ":" + strconv.Itoa(m.RaftPort)
			if !strings.Contains(string(b), addr) {
				t.Errorf("node %d's book lacks %s", n.ID, addr)
			}
		}
	}
}
