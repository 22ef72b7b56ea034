// coord_ctl_test.go - raftkvctl's lease, txn and lock commands against a real
// cluster; `raftkvctl lock` run by competing processes while the leader is
// killed (kill -9) never has two holders: each holder's command takes a
// directory with mkdir (which fails if another holder has it) for its
// critical section.
package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func ctl(c *Cluster, stdin string, args ...string) (string, int) {
	var eps []string
	for _, n := range c.Nodes {
		eps = append(eps, n.URL())
	}
	cmd := exec.Command(filepath.Join(c.binDir, "raftkvctl"),
		append([]string{"--endpoints", strings.Join(eps, ",")}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return strings.TrimSpace(string(out)), code
}

func TestCtlLeaseAndTxn(t *testing.T) {
	c := NewCluster(t, 3)
	id, code := ctl(c, "", "lease", "grant", "5000")
	if code != 0 || strings.Trim(id, "0123456789") != "" {
		t.Fatalf("lease grant: %d %q", code, id)
	}
	if out, code := ctl(c, "", "lease", "keepalive", id); code != 0 || !strings.Contains(out, `"remaining_ms":5000`) {
		t.Fatalf("lease keepalive: %d %q", code, out)
	}
	txn := `{"compare":[{"key":"ctl/x","exists":false}],"success":[{"op":"put","key":"ctl/x","value":"1","lease":"` + id + `"}]}`
	if out, code := ctl(c, txn, "txn"); code != 0 || !strings.Contains(out, `"succeeded":true`) {
		t.Fatalf("txn: %d %q", code, out)
	}
	if out, code := ctl(c, txn, "txn"); code != 1 || !strings.Contains(out, `"succeeded":false`) {
		t.Fatalf("txn, failure branch: %d %q (want exit 1)", code, out)
	}
	if out, code := ctl(c, `{"success":[{"op":"nope"}]}`, "txn"); code != 2 {
		t.Fatalf("a malformed txn: %d %q (want exit 2)", code, out)
	}
	if out, code := ctl(c, "", "lease", "revoke", id); code != 0 || !strings.Contains(out, `"keys_deleted":1`) {
		t.Fatalf("lease revoke: %d %q", code, out)
	}
	if out, code := ctl(c, "", "lease", "keepalive", id); code != 1 || !strings.Contains(out, "lease_not_found") {
		t.Fatalf("keepalive of a revoked lease: %d %q (want exit 1)", code, out)
	}
	if _, code := ctl(c, "", "lease", "grant", "abc"); code != 2 {
		t.Fatalf("lease grant abc: %d (want 2)", code)
	}
}

func TestCtlLockOneHolder(t *testing.T) {
	c := NewCluster(t, 3)
	dir := t.TempDir()
	critical := `mkdir "$D/held" || { echo "two holders: $RAFTKV_LOCK_TOKEN" >> "$D/violations"; exit 0; }
echo "$RAFTKV_LOCK_TOKEN" >> "$D/tokens"; sleep 0.3; rmdir "$D/held"`
	os.Setenv("D", dir)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	runs, failed := 0, 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, code := ctl(c, "", "lock", "--ttl", "3000", "job", "--", "sh", "-c", critical)
				mu.Lock()
				if code == 0 {
					runs++
				} else {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(3 * time.Second)
	leader := c.Leader(10 * time.Second)
	c.KillNode(leader)
	time.Sleep(4 * time.Second)
	c.StartNode(leader)
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if b, err := os.ReadFile(filepath.Join(dir, "violations")); err == nil {
		t.Errorf("the lock had two holders:\n%s", b)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "tokens"))
	tokens := strings.Fields(string(b))
	for i := 1; i < len(tokens); i++ {
		var a, z uint64
		fmt.Sscan(tokens[i-1], &a)
		fmt.Sscan(tokens[i], &z)
		if z <= a {
			t.Errorf("fencing tokens not increasing: %d then %d", a, z)
		}
	}
	if runs < 5 {
		t.Errorf("only %d locked runs completed (%d failed)", runs, failed)
	}
	t.Logf("%d locked runs by 4 raftkvctl lock processes (%d ended without the lock), leader %d killed; never two holders",
		runs, failed, leader.ID)
}
