// hostile_peer_test.go - the peer port gets hostile frames (peer_hostile.c)
// and raw garbage; raftd drops and counts them, never crashes, and the
// cluster keeps serving.
package cluster

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestHostilePeerPort(t *testing.T) {
	c := NewCluster(t, 3)
	target := c.Nodes[1]
	tool := filepath.Join(c.binDir, "tests", "peer_hostile")
	out, err := exec.Command(tool, fmt.Sprintf("tcp://127.0.0.1:%d", target.RaftPort), fmt.Sprint(target.ID)).CombinedOutput()
	if err != nil {
		t.Fatalf("peer_hostile: %v\n%s", err, out)
	}
	t.Logf("%s", out)
	// Raw bytes that are not even ZMTP.
	for _, junk := range []string{"GET / HTTP/1.1\r\n\r\n", "\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7f", string(make([]byte, 70000))} {
		if cn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", target.RaftPort)); err == nil {
			_, _ = cn.Write([]byte(junk))
			time.Sleep(50 * time.Millisecond)
			cn.Close()
		}
	}
	time.Sleep(500 * time.Millisecond)
	c.CheckAlive()
	if _, err := Put(target, "after-hostile-peers", "ok", nil).Write(); err != nil {
		t.Errorf("write after hostile peer traffic: %v", err)
	}
	m := do("GET", target.URL()+"/metrics", nil, nil)
	t.Logf("raftd still serving; metrics answered %d", m.Status)
}
