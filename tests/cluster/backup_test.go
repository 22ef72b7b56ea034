package cluster

// backup_test.go: GET /v1/snapshot and raftkvctl snapshot save/restore. A
// backup taken while writes go on restores into a new cluster holding
// exactly the writes up to its X-Raft-Index, with their values and indexes.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type backupWrite struct {
	key, value  string
	create, mod uint64
}

// writeUnique puts backup-<w>-<i> until stop closes, recording each acknowledged write.
func writeUnique(c *Cluster, w int, stop chan struct{}, mu *sync.Mutex, acked *[]backupWrite) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		key, val := fmt.Sprintf("backup-%d-%d", w, i), fmt.Sprintf("v%d-%d", w, i)
		res, err := Put(c.Nodes[i%len(c.Nodes)], key, val, nil).Write()
		if err != nil {
			continue
		}
		mu.Lock()
		*acked = append(*acked, backupWrite{key, val, res.CreateIndex, res.ModIndex})
		mu.Unlock()
	}
}

func runCtl(t *testing.T, c *Cluster, args ...string) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(c.binDir, "raftkvctl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("raftkvctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// backupIndex reads the index FILE.crc32c records.
func backupIndex(t *testing.T, file string) uint64 {
	t.Helper()
	b, err := os.ReadFile(file + ".crc32c")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		if strings.HasPrefix(f, "index=") {
			n, _ := strconv.ParseUint(f[6:], 10, 64)
			return n
		}
	}
	t.Fatalf("no index in %s.crc32c: %s", file, b)
	return 0
}

func TestSnapshotBackupRestoreUnderLoad(t *testing.T) {
	c := NewCluster(t, 3)
	var mu sync.Mutex
	var acked []backupWrite
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) { defer wg.Done(); writeUnique(c, w, stop, &mu, &acked) }(w)
	}
	loadBulk(t, c, NewHistory(), nil, "bk", 64, 32<<10) // 2 MiB so the copy takes a moment
	time.Sleep(500 * time.Millisecond)
	file := filepath.Join(t.TempDir(), "backup.mdb")
	src := c.Nodes[1]
	out := runCtl(t, c, "--url", src.URL(), "snapshot", "save", file)
	t.Logf("under load, from node %d: %s", src.ID, strings.TrimSpace(out))
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	index := backupIndex(t, file)
	if index == 0 {
		t.Fatalf("the backup names no index")
	}
	var before, after int
	for _, a := range acked {
		if a.mod <= index {
			before++
		} else {
			after++
		}
	}
	if before == 0 || after == 0 {
		t.Fatalf("the backup was not taken under load: %d writes up to index %d, %d after", before, index, after)
	}
	if _, err := os.Stat(filepath.Join(src.Dir, "snap")); err == nil {
		left, _ := filepath.Glob(filepath.Join(src.Dir, "snap", "backup-*"))
		if len(left) != 0 {
			t.Fatalf("backup files left on node %d: %v", src.ID, left)
		}
	}

	r := NewClusterOpts(t, 3, ClusterOpts{Prepare: func(rc *Cluster, n *Node) {
		out := runCtl(t, rc, "snapshot", "restore", file, "--data-dir", n.Dir,
			"--node-id", fmt.Sprint(n.ID), "--peers", rc.peers)
		t.Logf("%s", strings.TrimSpace(out))
	}})
	checkRestored(t, r, acked, index)
	res, err := Put(r.Nodes[0], "after-restore", "x", nil).Write()
	if err != nil || res.ModIndex <= index {
		t.Fatalf("a write to the restored cluster: %+v %v (index must pass %d)", res, err, index)
	}
	t.Logf("the restored cluster takes writes: after-restore at index %d", res.ModIndex)
}

// checkRestored: every write up to index is on every node with its value and
// indexes; none after it is.
func checkRestored(t *testing.T, r *Cluster, acked []backupWrite, index uint64) {
	t.Helper()
	before := 0
	for _, n := range r.Nodes {
		for _, a := range acked {
			g := Get(n, a.key, "")
			if a.mod > index {
				if g.Status != 404 {
					t.Fatalf("node %d: %s (written at %d, after the backup's %d) is there: %s", n.ID, a.key, a.mod, index, g)
				}
				continue
			}
			if n == r.Nodes[0] {
				before++
			}
			if g.Status != 200 || string(g.Body) != a.value ||
				g.Header.Get("X-Create-Index") != fmt.Sprint(a.create) ||
				g.Header.Get("X-Mod-Index") != fmt.Sprint(a.mod) {
				t.Fatalf("node %d: %s want %q create %d mod %d, got %s (create %s mod %s)", n.ID,
					a.key, a.value, a.create, a.mod, g, g.Header.Get("X-Create-Index"), g.Header.Get("X-Mod-Index"))
			}
		}
	}
	t.Logf("restored cluster: the %d writes up to index %d are on every node with their values and indexes; the %d after it are not",
		before, index, len(acked)-before)
}
