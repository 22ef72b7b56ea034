package cluster

// snapshot_faults_test.go - a full disk and an I/O error while storaged
// copies an image for a follower, injected into the running daemons through
// libfiu's control FIFO (storaged's fault points are in sm_snap.c; the
// preload library fiu-run uses gives each process a FIFO to enable them).

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const fiuPreload = "/usr/lib/fiu/fiu_run_preload.so"

// fiuEnv is the environment that gives a process libfiu's control FIFO
// (<dir>/fiu-<pid>.in and .out) without enabling anything yet.
func fiuEnv(dir string) []string {
	return []string{"LD_PRELOAD=" + fiuPreload, "FIU_CTRL_FIFO=" + filepath.Join(dir, "fiu"),
		"FIU_ENABLE="}
}

// fiuCtl sends one libfiu remote control command to pid and checks its answer.
func fiuCtl(t *testing.T, dir string, pid int, cmd string) {
	t.Helper()
	base := filepath.Join(dir, fmt.Sprintf("fiu-%d", pid))
	in, err := os.OpenFile(base+".in", os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("libfiu FIFO of pid %d: %v", pid, err)
	}
	_, err = in.WriteString(cmd + "\n")
	in.Close()
	if err != nil {
		t.Fatalf("libfiu FIFO of pid %d: %v", pid, err)
	}
	out, err := os.Open(base + ".out")
	if err != nil {
		t.Fatalf("libfiu FIFO of pid %d: %v", pid, err)
	}
	defer out.Close()
	reply, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(reply) != "0" {
		t.Fatalf("libfiu %q in pid %d: reply %q, %v", cmd, pid, reply, err)
	}
}

// fiuAll sends cmd to every running storaged.
func fiuAll(t *testing.T, c *Cluster, dir, cmd string) {
	t.Helper()
	for _, n := range c.Nodes {
		if p := n.proc("storaged"); p != nil && !p.exited() {
			fiuCtl(t, dir, p.cmd.Process.Pid, cmd)
		}
	}
}

func countInLogs(c *Cluster, role, text string) int {
	n := 0
	for _, node := range c.Nodes {
		n += countInLog(node, role, text)
	}
	return n
}

// waitLogs waits until role's logs on all nodes hold text at least min times.
func waitLogs(t *testing.T, c *Cluster, role, text string, min int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for countInLogs(c, role, text) < min {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %q logged %d times, not %d, within %v", role, text,
				countInLogs(c, role, text), min, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tmpFiles lists what a failed copy could leave in a node's snap/.
func tmpFiles(n *Node) []string {
	tmps, _ := filepath.Glob(filepath.Join(n.Dir, "snap", "*.tmp"))
	return tmps
}

// fiuSnapshotCluster: three nodes compacting every 64 entries whose storaged
// run under libfiu (their control FIFOs in fifoDir), a workload of 4 clients on,
// 100 bulk writes of 16 KiB done, and f one of the leader's followers. Skips the
// test when libfiu's preload library is missing.
func fiuSnapshotCluster(t *testing.T) (c *Cluster, h *History, w *Workload, f *Node, fifoDir string) {
	t.Helper()
	if _, err := os.Stat(fiuPreload); err != nil {
		t.Skipf("libfiu's preload library is missing (%v): apt-get install fiu-utils", err)
	}
	fifoDir = t.TempDir()
	c = NewClusterOpts(t, 3, ClusterOpts{Extra: snapshotOpts,
		Env: map[string][]string{"storaged": fiuEnv(fifoDir)}})
	h = NewHistory()
	w = StartWorkload(c, h, 4)
	f = c.Followers(c.Leader(10 * time.Second))[0]
	loadBulk(t, c, h, nil, "a", 100, 16<<10)
	return c, h, w, f, fifoDir
}

// TestSnapshotImageCopyFaults: a follower's data is deleted and the others
// compact; when it comes back, every image storaged starts for it fails, first
// with ENOSPC and then with EIO. The leader keeps taking writes, raftd reports
// each failure and asks again, no temporary file stays; once the disk "has
// room" again the next image goes through and the follower converges with
// every acknowledged write (the history is linearizable).
func TestSnapshotImageCopyFaults(t *testing.T) {
	c, h, w, f, fifoDir := fiuSnapshotCluster(t)
	// before any image can be made (the leader may ask for one as soon as the
	// follower falls behind its first index, and reuses it for 10 s)
	fiuAll(t, c, fifoDir, "enable name=storaged/snap/copy,failnum=28") // ENOSPC
	c.KillNode(f)
	wipeNodeData(t, f)
	loadBulk(t, c, h, f, "b", 200, 16<<10)

	const refused = "snapshot image not usable"
	c.StartNode(f)
	waitLogs(t, c, "raftd", refused, 2, 30*time.Second)
	// the leader keeps taking writes (loadBulk fails past 2 of 20 refused)
	loadBulk(t, c, h, f, "c", 20, 1<<10)
	fiuAll(t, c, fifoDir, "enable name=storaged/snap/copy,failnum=5") // EIO
	n := countInLogs(c, "raftd", refused)
	waitLogs(t, c, "raftd", refused, n+2, 30*time.Second)
	if got := countInLogs(c, "raftd", "no space left on device"); got == 0 {
		t.Errorf("no raftd logged the ENOSPC of an image")
	}
	if got := countInLogs(c, "raftd", "input/output error"); got == 0 {
		t.Errorf("no raftd logged the EIO of an image")
	}
	if got := countInLog(f, "raftd", "installing received snapshot"); got != 0 {
		t.Fatalf("the follower installed %d snapshot(s) while every image failed", got)
	}
	for _, node := range c.Nodes {
		if tmps := tmpFiles(node); len(tmps) > 0 && node != f {
			t.Errorf("node %d keeps temporary files after failed copies: %v", node.ID, tmps)
		}
	}
	t.Logf("%d image copies failed and were asked again; 20 bulk writes went through meanwhile",
		countInLogs(c, "raftd", refused))

	fiuAll(t, c, fifoDir, "disable name=storaged/snap/copy")
	waitLog(t, f, "raftd", "installing received snapshot", 1, 60*time.Second)
	time.Sleep(500 * time.Millisecond)
	checkAll(t, c, h, w)
}

// waitFifo waits until libfiu's control FIFO of pid exists (the preload
// library makes it as the process starts).
func waitFifo(t *testing.T, dir string, pid int) {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("fiu-%d.in", pid))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("libfiu FIFO %s never appeared", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSnapshotInstallRefused: a wiped follower receives the leader's image
// but its storaged refuses to install it (the rename into the environment
// fails with EIO). raftd logs the refusal and tries again a second later,
// with a fresh copy, instead of waiting out RAFTD_INSTALL_WAIT_MS and exiting;
// once the disk works again the install goes through and the follower
// converges with every acknowledged write. Planted RAFTD_BUG_INSTALL_NO_RETRY
// (make cluster-install-bug) ends raftd at the first refusal.
func TestSnapshotInstallRefused(t *testing.T) {
	c, h, w, f, fifoDir := fiuSnapshotCluster(t)
	c.KillNode(f)
	wipeNodeData(t, f)
	loadBulk(t, c, h, f, "b", 100, 16<<10)

	c.Start(f, "storaged")
	pid := f.proc("storaged").cmd.Process.Pid
	waitFifo(t, fifoDir, pid)
	fiuCtl(t, fifoDir, pid, "enable name=storaged/snap/install,failnum=5") // EIO
	c.Start(f, "raftd")
	c.Start(f, "gatewayd")
	const refused = "storaged refused the snapshot, retrying"
	waitLog(t, f, "raftd", refused, 2, 20*time.Second)
	fiuCtl(t, fifoDir, pid, "disable name=storaged/snap/install")
	time.Sleep(2 * time.Second) // the next try installs
	if p := f.proc("raftd"); p.exited() {
		t.Fatalf("raftd exited after storaged refused the snapshot:\n%s", c.LogTail(f, "raftd", 10))
	}
	t.Logf("storaged refused %d installs; raftd retried", countInLog(f, "raftd", refused))
	checkAll(t, c, h, w)
}
