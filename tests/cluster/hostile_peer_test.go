// hostile_peer_test.go - the peer port gets hostile frames (peer_hostile.c)
// and raw garbage; raftd drops and counts them, never crashes, and the
// cluster keeps serving.
package cluster

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHostilePeerPort(t *testing.T) {
	c := NewCluster(t, 3)
	target := c.Nodes[1]
	tool := filepath.Join(c.binDir, "tests", "peer_hostile")
	args := []string{fmt.Sprintf("tcp://127.0.0.1:%d", target.RaftPort), fmt.Sprint(target.ID)}
	if c.curve { // a random unknown key: refused by ZAP and counted (curve_test.go)
		args = append(args, "--curve-server-key", publicKey(t, c, target.ID))
	}
	out, err := exec.Command(tool, args...).CombinedOutput()
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
	// The gateway polls raftd's counters every ~100 ms.
	var dropped int
	for i := 0; i < 30 && dropped == 0; i++ {
		time.Sleep(100 * time.Millisecond)
		dropped = metricValue(do("GET", target.URL()+"/metrics", nil, nil).Body,
			"raftkv_peer_messages_dropped_total")
	}
	if dropped <= 0 {
		t.Errorf("raftd counted no dropped peer messages after the hostile frames")
	}
	t.Logf("raftd still serving; it dropped and counted %d peer messages", dropped)
}

// metricValue returns the value of an unlabelled metric in Prometheus text, or -1.
func metricValue(body []byte, name string) int {
	for _, line := range strings.Split(string(body), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == name {
			v, err := strconv.ParseFloat(f[1], 64)
			if err == nil {
				return int(v)
			}
		}
	}
	return -1
}
