// curve_harness_test.go - the cluster harness with CurveZMQ between raftd
// peers: RAFTKV_CLUSTER_CURVE=1 (make cluster-test CLUSTER_CURVE=1) runs every
// cluster test that way; NewClusterCurve forces it for one test.
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
		dir := c.CurveKeyDir(n.ID)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			c.t.Fatal(err)
		}
		out, err := exec.Command(filepath.Join(c.binDir, "raftkvctl"), "keygen", "--out", dir).CombinedOutput()
		if err != nil {
			c.t.Fatalf("raftkvctl keygen: %v\n%s", err, out)
		}
		fmt.Fprintf(&list, "%d %s\n", n.ID, strings.TrimSpace(string(out)))
	}
	if err := os.WriteFile(c.peerKeysFile(), []byte(list.String()), 0o644); err != nil {
		c.t.Fatal(err)
	}
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
