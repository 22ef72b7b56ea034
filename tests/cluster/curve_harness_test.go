// curve_harness_test.go - the cluster harness with CurveZMQ between raftd
// peers: RAFTKV_CLUSTER_CURVE=1 (make cluster-test CLUSTER_CURVE=1) runs every
// cluster test that way; NewClusterCurve forces it for one test. The first
// nodes' public keys are in peer-keys.txt (--peer-keys-file); a node that
// joins later (NewJoiner) has a key pair of its own that only its raftd
// --join announces.
package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func curveFromEnv() bool { return os.Getenv("RAFTKV_CLUSTER_CURVE") == "1" }

// curvePrepare makes every node's key pair with raftkvctl keygen and the
// allow-list file, as an operator would (nothing when Curve is off).
func (c *Cluster) curvePrepare() {
	if !c.curve {
		return
	}
	c.keyDir = filepath.Join(c.dir, "keys")
	var list strings.Builder
	for _, n := range c.Nodes {
		fmt.Fprintf(&list, "%d %s\n", n.ID, c.curveKeygen(n.ID))
	}
	if err := os.WriteFile(c.peerKeysFile(), []byte(list.String()), 0o644); err != nil {
		c.t.Fatal(err)
	}
}

// curveKeygen makes node id's key pair under CurveKeyDir(id) and returns its
// public key ("" when Curve is off). NewJoiner calls it for a joining node,
// whose key goes into no allow-list file.
func (c *Cluster) curveKeygen(id int) string {
	if !c.curve {
		return ""
	}
	dir := c.CurveKeyDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(c.binDir, "raftkvctl"), "keygen", "--out", dir).CombinedOutput()
	if err != nil {
		c.t.Fatalf("raftkvctl keygen: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// CurveKeyDir is where node id's curve.key and curve.pub are.
func (c *Cluster) CurveKeyDir(id int) string {
	return filepath.Join(c.keyDir, fmt.Sprintf("node%d", id))
}

func (c *Cluster) peerKeysFile() string { return filepath.Join(c.keyDir, "peer-keys.txt") }

// curveArgs are raftd's Curve flags; with Curve off, a node bound to a
// non-loopback address (netns tests) needs --insecure.
func (c *Cluster) curveArgs(n *Node) []string {
	if c.curve {
		return []string{"--curve-secret-key", filepath.Join(c.CurveKeyDir(n.ID), "curve.key"),
			"--peer-keys-file", c.peerKeysFile()}
	}
	if !strings.HasPrefix(n.Host, "127.") {
		return []string{"--insecure"}
	}
	return nil
}
