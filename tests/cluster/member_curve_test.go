// member_curve_test.go - a node joins a CurveZMQ cluster with raftd --join
// (issue 11): its key pair is made when it joins and is in no allow-list
// file, so the others can only learn its public key from the configuration
// (the ADD_LEARNER entry that raftd --join's POST /v1/members creates). The
// test first shows that the members' ZAP handlers refuse that key, then that
// the joiner becomes a caught-up voter (the leader hears its answers: its
// handshakes pass ZAP), takes writes, and that the history is linearizable
// with every acknowledged write on every node.
// Planted bug (harness side, RAFTKV_PLANT_JOIN_STALE_KEY=1, make
// cluster-curve-join-bug): before the joiner starts, its id and address are
// added with another key, so its raftd --join takes 409 member_exists as
// "already added" and the key in the configuration is not its own.
package cluster

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// curveJoinLimit bounds the wait for the joiner to be a caught-up voter.
const curveJoinLimit = 25 * time.Second

// plantStaleKey adds n with a freshly made key that is not n's own (the
// planted bug: the key in the configuration is not the joiner's).
func plantStaleKey(t *testing.T, c *Cluster, n *Node, via *Node) {
	t.Helper()
	stale := c.curveKeygen(1000 + n.ID) // CurveKeyDir(1000+id): nobody runs with it
	body := fmt.Sprintf(`{"id":%d,"peer_address":"%s:%d","url":"%s","curve_key":"%s","promote":true}`,
		n.ID, n.Host, n.RaftPort, n.URL(), stale)
	if r := addMember(via, body, 10*time.Second); r.Status != 201 {
		t.Fatalf("planting node %d with a stale key: %s", n.ID, r)
	}
	t.Logf("PLANTED: node %d added with key %s, not its own", n.ID, stale)
}

// keyRefusedBefore shows the members' ZAP handlers refuse n's key while the
// configuration does not carry it: forged messages as node n with its real
// secret key are dropped and counted at target.
func keyRefusedBefore(t *testing.T, c *Cluster, n, target *Node) {
	t.Helper()
	allow, err := os.ReadFile(c.peerKeysFile())
	if err != nil {
		t.Fatal(err)
	}
	key := publicKey(t, c, n.ID)
	if strings.Contains(string(allow), key) {
		t.Fatalf("node %d's key %s is in the allow-list file: the test would not show it travel",
			n.ID, key)
	}
	dropped := droppedCount(target)
	runHostile(t, c, target, "--ids", fmt.Sprint(n.ID), "--curve-server-key",
		publicKey(t, c, target.ID), "--curve-secret-file", c.CurveKeyDir(n.ID)+"/curve.key")
	if now := waitDropped(target, dropped); now <= dropped {
		t.Fatalf("node %d: node %d's key was not refused before the join (%d refusals before, %d after)",
			target.ID, n.ID, dropped, now)
	}
	t.Logf("before the join, node %d refuses node %d's key %s (in no allow-list file)", target.ID,
		n.ID, key)
}

func TestMemberCurveJoin(t *testing.T) {
	c := NewClusterCurve(t, 3)
	h := NewHistory()
	w := StartWorkload(c, h, 3)
	time.Sleep(time.Second)
	first := c.NodeList()
	leader := c.Leader(10 * time.Second)
	n4 := c.NewJoiner()
	keyRefusedBefore(t, c, n4, leader)
	if os.Getenv("RAFTKV_PLANT_JOIN_STALE_KEY") == "1" {
		plantStaleKey(t, c, n4, leader)
	}

	startJoiner(t, c, n4, first, curveJoinLimit) // with its own key
	if !writeOK(h, 96, n4, "curve-joined", 10*time.Second) {
		t.Errorf("no write acknowledged through the joined node %d within 10s", n4.ID)
	}
	mustBeAlive(t, c)
	finishMembers(t, c, h, w, c.NodeList())
}
