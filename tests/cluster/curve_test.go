// curve_test.go - with CurveZMQ on between raftd peers, clients that do not
// belong try to get in (docs/testing.md, "Inputs that must get a clear answer"): plain ZeroMQ and a random
// unknown Curve key forge APPEND, VOTE and SNAPSHOT claiming each member's
// id at every node; a member's valid key claiming another member's id. The
// cluster's term, log and data do not change, and raftd counts the refusals.
package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type nodeState struct{ term, commit uint64 }

// curveSnapshot is every node's term and commit index.
func curveSnapshot(t *testing.T, c *Cluster) []nodeState {
	var out []nodeState
	for _, n := range c.Nodes {
		s, err := c.Status(n)
		if err != nil {
			t.Fatalf("status of node %d: %v", n.ID, err)
		}
		out = append(out, nodeState{s.Term, s.CommitIndex})
	}
	return out
}

func droppedCount(n *Node) int {
	return metricValue(do("GET", n.URL()+"/metrics", nil, nil).Body, "raftkv_peer_messages_dropped_total")
}

// waitDropped waits until node n's counter passes before (the gateway polls raftd ~every 100 ms).
func waitDropped(n *Node, before int) int {
	now := droppedCount(n)
	for i := 0; i < 30 && now <= before; i++ {
		time.Sleep(100 * time.Millisecond)
		now = droppedCount(n)
	}
	return now
}

func runHostile(t *testing.T, c *Cluster, target *Node, args ...string) {
	tool := filepath.Join(c.binDir, "tests", "peer_hostile")
	all := append([]string{fmt.Sprintf("tcp://127.0.0.1:%d", target.RaftPort), fmt.Sprint(target.ID)}, args...)
	out, err := exec.Command(tool, all...).CombinedOutput()
	if err != nil {
		t.Fatalf("peer_hostile %v: %v\n%s", args, err, out)
	}
	t.Logf("node %d: %s", target.ID, strings.TrimSpace(string(out)))
}

func publicKey(t *testing.T, c *Cluster, id int) string {
	b, err := os.ReadFile(filepath.Join(c.CurveKeyDir(id), "curve.pub"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// checkUnchanged: same term and commit index on every node, and every key reads back.
func checkUnchanged(t *testing.T, c *Cluster, before []nodeState, keys int, what string) {
	t.Helper()
	after := curveSnapshot(t, c)
	for i := range before {
		if after[i] != before[i] {
			t.Errorf("%s: node %d went from term %d commit %d to term %d commit %d",
				what, i+1, before[i].term, before[i].commit, after[i].term, after[i].commit)
		}
	}
	for i := 0; i < keys; i++ {
		for _, n := range c.Nodes {
			r := Get(n, fmt.Sprintf("curve-%d", i), "consistency=stale")
			if r.Status != 200 || string(r.Body) != fmt.Sprintf("v%d", i) {
				t.Errorf("%s: node %d key curve-%d: %d %q", what, n.ID, i, r.Status, r.Body)
			}
		}
	}
}

func TestCurvePeerPortKeepsOutsiders(t *testing.T) {
	c := NewClusterCurve(t, 3)
	const keys = 20
	for i := 0; i < keys; i++ {
		if _, err := Put(c.Nodes[i%3], fmt.Sprintf("curve-%d", i), fmt.Sprintf("v%d", i), nil).Write(); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	time.Sleep(500 * time.Millisecond) // every node has applied what was committed
	before := curveSnapshot(t, c)
	for _, target := range c.Nodes {
		dropped := droppedCount(target)
		// plain ZeroMQ: the Curve handshake fails, nothing reaches raftd
		runHostile(t, c, target, "--ids", "1,2,3")
		// a random Curve key that is not in the allow-list: ZAP refuses it, counted
		runHostile(t, c, target, "--ids", "1,2,3", "--curve-server-key", publicKey(t, c, target.ID))
		if now := waitDropped(target, dropped); now <= dropped {
			t.Errorf("node %d: refused handshakes were not counted (%d before, %d after)", target.ID, dropped, now)
		} else {
			t.Logf("node %d counted %d refusals", target.ID, now-dropped)
		}
	}
	time.Sleep(1500 * time.Millisecond) // three election timeouts: a believed forgery would show
	checkUnchanged(t, c, before, keys, "after outsiders")
	if t.Failed() {
		return
	}
	t.Logf("checked: plain and unknown-key clients forging APPEND/VOTE/SNAPSHOT as every member " +
		"at every node changed no term, commit index or key; ZAP refusals counted")
}

func TestCurvePeerWrongNodeIDRefused(t *testing.T) {
	c := NewClusterCurve(t, 3)
	const keys = 5
	for i := 0; i < keys; i++ {
		if _, err := Put(c.Nodes[0], fmt.Sprintf("curve-%d", i), fmt.Sprintf("v%d", i), nil).Write(); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	before := curveSnapshot(t, c)
	// node 3's valid key claims to be node 1 (and node 2) at node 2, then node 1 at node 3... every pair
	for _, target := range c.Nodes {
		for _, owner := range c.Nodes {
			var claims []string
			for _, n := range c.Nodes {
				if n.ID != owner.ID && n.ID != target.ID {
					claims = append(claims, fmt.Sprint(n.ID))
				}
			}
			if owner.ID == target.ID || len(claims) == 0 {
				continue
			}
			dropped := droppedCount(target)
			runHostile(t, c, target, "--ids", strings.Join(claims, ","), "--curve-server-key",
				publicKey(t, c, target.ID), "--curve-secret-file",
				filepath.Join(c.CurveKeyDir(owner.ID), "curve.key"))
			if now := waitDropped(target, dropped); now <= dropped {
				t.Errorf("node %d: node %d's key claiming ids %v was not refused and counted",
					target.ID, owner.ID, claims)
			}
			if !strings.Contains(c.LogTail(target, "raftd", 400), "its key belongs to another node") {
				t.Errorf("node %d: raftd did not log the refused id claim", target.ID)
			}
		}
	}
	time.Sleep(1500 * time.Millisecond)
	checkUnchanged(t, c, before, keys, "after wrong-id peers")
	c.CheckAlive()
	if !t.Failed() {
		t.Logf("checked: a member's valid key claiming another member's id is refused and counted " +
			"at every node; term, log and data unchanged")
	}
}
