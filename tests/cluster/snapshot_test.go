package cluster

// snapshot_test.go: a follower too far behind gets the snapshot image,
// made on demand from storaged's LMDB while writes go on (compaction itself
// copies nothing), including kill -9 of the receiver and of the sender in
// the middle of a transfer.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// wipeNodeData removes a stopped node's data (WAL, LMDB, snap/), keeping its logs.
func wipeNodeData(t *testing.T, n *Node) {
	t.Helper()
	ents, err := os.ReadDir(n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") || e.Name() == "sock" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(n.Dir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
}

// loadBulk writes keys bulk-<prefix>-<i> of size bytes through the live
// nodes other than skip, four at a time, and records each acknowledged one.
func loadBulk(t *testing.T, c *Cluster, h *History, skip *Node, prefix string, keys, size int) {
	t.Helper()
	var live []*Node
	for _, n := range c.Nodes {
		if n != skip {
			live = append(live, n)
		}
	}
	val := strings.Repeat("x", size-8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < keys; i += 4 {
				key := fmt.Sprintf("bulk-%s-%d", prefix, i)
				v := fmt.Sprintf("%08d%s", i, val)
				if _, err := Put(live[i%len(live)], key, v, nil).Write(); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
					continue
				}
				h.mu.Lock()
				h.acked[key] = v
				h.mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if failed > keys/10 {
		t.Fatalf("bulk load: %d of %d writes failed", failed, keys)
	}
}

func countInLog(n *Node, role, text string) int {
	b, _ := os.ReadFile(filepath.Join(n.Dir, role+".log"))
	return strings.Count(string(b), text)
}

// waitLog waits until role's log on n holds text at least min times.
func waitLog(t *testing.T, n *Node, role, text string, min int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for countInLog(n, role, text) < min {
		if time.Now().After(deadline) {
			t.Fatalf("node %d %s: %q not logged %d times within %v", n.ID, role, text, min, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkAll(t *testing.T, c *Cluster, h *History, w *Workload) {
	t.Helper()
	w.Stop()
	c.CheckAlive()
	t.Logf("workload: %d unique writes acknowledged, %d refused or unknown", w.Acked.Load(), w.Unknown.Load())
	h.Check(t)
	checkCaughtUp(t, c)
	for _, n := range c.Nodes {
		h.CheckAcked(t, n)
	}
}

var snapshotOpts = map[string][]string{"raftd": {"--snapshot-entries", "64"}}

// TestSnapshotWipedFollowerCatchesUp: a follower whose data directory was
// deleted comes back after the others compacted their logs (no copy on
// compaction: no image exists); the leader has storaged make one while the
// workload goes on, sends it, the follower installs it and converges with
// every acknowledged write; the image is deleted once idle.
func TestSnapshotWipedFollowerCatchesUp(t *testing.T) {
	c := NewClusterWith(t, 3, nil, snapshotOpts)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	loadBulk(t, c, h, nil, "a", 100, 16<<10)
	c.KillNode(f)
	wipeNodeData(t, f)
	loadBulk(t, c, h, f, "b", 200, 16<<10)
	if n := countInLog(leader, "raftd", "snapshot at storaged's durable index (no copy)"); n == 0 {
		t.Fatalf("the leader compacted nothing while the follower was down")
	}
	t.Logf("follower %d wiped; %d KiB more written, the others compacted without copies", f.ID, 200*16)
	c.StartNode(f)
	c.WaitReady(30 * time.Second)
	waitLog(t, f, "raftd", "installing received snapshot", 1, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	checkAll(t, c, h, w)
	// an image made at a later index than the snapshot's (writes went on) is sent at once,
	// none of its chunks dropped while raftd adopts it (that cost two heartbeats)
	if n := countInLogs(c, "raftd", "snapshot chunk unreadable"); n != 0 {
		t.Fatalf("%d snapshot chunks were dropped unread", n)
	}
	l := c.Leader(10 * time.Second)
	t.Logf("leader %d: images made %d; follower %d installed %d snapshot(s)", l.ID,
		countInLog(l, "raftd", "snapshot image made for a follower"), f.ID,
		countInLog(f, "raftd", "installing received snapshot"))
	// idle for 10 s: deleted (or replaced by the next compaction, which has none)
	deadline := time.Now().Add(25 * time.Second)
	for {
		imgs, _ := filepath.Glob(filepath.Join(l.Dir, "snap", "snapshot-*.mdb"))
		if len(imgs) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader still holds image files long after the transfer: %v", imgs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("the image was deleted once idle: the leader's snap/ holds no image")
}

// TestSnapshotKillMidTransfer: kill -9 of the receiving raftd in the middle
// of a transfer (incoming.tmp half written), then of the sending leader's
// raftd in the middle of the next one; the restarted sender removes its
// stale image, a new leader makes its own, and the follower converges with
// every acknowledged write.
func TestSnapshotKillMidTransfer(t *testing.T) {
	c := NewClusterWith(t, 3, nil, snapshotOpts)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	c.KillNode(f)
	wipeNodeData(t, f)
	loadBulk(t, c, h, f, "big", 480, 64<<10)
	t.Logf("follower %d wiped; 30 MiB written meanwhile", f.ID)

	c.StartNode(f)
	waitLog(t, f, "raftd", "receiving snapshot", 1, 30*time.Second)
	installed := countInLog(f, "raftd", "installing received snapshot")
	c.Kill(f, "raftd")
	t.Logf("kill -9 of the receiver's raftd after its first chunk (installed before the kill: %d)", installed)
	c.Start(f, "raftd")

	waitLog(t, f, "raftd", "receiving snapshot", 2, 30*time.Second)
	sender := c.Leader(10 * time.Second)
	installed = countInLog(f, "raftd", "installing received snapshot")
	c.Kill(sender, "raftd")
	t.Logf("kill -9 of the sender's raftd (node %d) in the second transfer (installed before: %d)", sender.ID, installed)
	time.Sleep(300 * time.Millisecond)
	c.Start(sender, "raftd")
	c.WaitReady(30 * time.Second)
	waitLog(t, f, "raftd", "installing received snapshot", 1, 60*time.Second)
	if n := countInLog(sender, "raftd", "stale snapshot file removed"); n == 0 {
		t.Logf("the sender left no stale image behind (its image was complete and idle or not yet made)")
	}
	time.Sleep(500 * time.Millisecond)
	checkAll(t, c, h, w)
}

// TestSnapshotWipedFollowerNoNewWrites: the follower's data is deleted and
// nothing is written afterwards, so the leader still believes it matches
// entries the leader's log holds; its rejections say its log is empty, the
// leader forgets the match, finds the prefix compacted and sends an image
// (before: it probed the old match forever).
func TestSnapshotWipedFollowerNoNewWrites(t *testing.T) {
	c := NewClusterWith(t, 3, nil, snapshotOpts)
	h := NewHistory()
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	loadBulk(t, c, h, nil, "q", 300, 1<<10)
	checkCaughtUp(t, c)
	c.KillNode(f)
	wipeNodeData(t, f)
	c.StartNode(f)
	waitLog(t, f, "raftd", "installing received snapshot", 1, 30*time.Second)
	checkCaughtUp(t, c)
	h.CheckAcked(t, f)
}

// lastSnapshotIndex is the index of the last copy-free snapshot n's raftd logged (0: none).
func lastSnapshotIndex(n *Node) uint64 {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "raftd.log"))
	var last uint64
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "snapshot at storaged's durable index (no copy)") {
			continue
		}
		if i := strings.Index(line, " index="); i >= 0 {
			fmt.Sscanf(line[i+len(" index="):], "%d", &last)
		}
	}
	return last
}

// TestSnapshotRestartedLeaderAboveSnapshot: a follower is down while the
// others compact past its log; then the leader and the other follower go
// down, and the leader comes back with only the lagging follower. Its core
// boots with the commit index at its snapshot, below what its storaged
// applied; the follower needs an image, which storaged makes at its applied
// index. Unless raftd tells the core that index is committed
// (RAFT_EVENT_APPLIED), the image is refused for ever and no write commits.
func TestSnapshotRestartedLeaderAboveSnapshot(t *testing.T) {
	c := NewClusterWith(t, 3, nil, snapshotOpts)
	h := NewHistory()
	leader := c.Leader(10 * time.Second)
	fs := c.Followers(leader)
	lag, other := fs[0], fs[1]
	c.KillNode(lag)
	loadBulk(t, c, h, lag, "a", 300, 512)
	for i := 0; ; i++ {
		s, err := c.Status(leader)
		if err != nil {
			t.Fatal(err)
		}
		snap := lastSnapshotIndex(leader)
		if snap > 0 && s.AppliedIndex > snap {
			t.Logf("leader %d: snapshot at %d, applied %d", leader.ID, snap, s.AppliedIndex)
			break
		}
		if i == 5 {
			t.Fatalf("leader %d: no snapshot below its applied index %d (snapshot %d)",
				leader.ID, s.AppliedIndex, snap)
		}
		loadBulk(t, c, h, lag, fmt.Sprintf("b%d", i), 10, 512)
	}
	c.KillNode(other)
	c.KillNode(leader)
	c.StartNode(leader)
	c.StartNode(lag)

	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := Put(leader, "after-restart", "v", nil).Write(); err == nil {
			h.mu.Lock()
			h.acked["after-restart"] = "v"
			h.mu.Unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write committed within 15 s of the leader's restart; raftd:\n%s",
				c.LogTail(leader, "raftd", 15))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if countInLog(leader, "raftd", "commit index raised to storaged's applied index") == 0 {
		t.Fatalf("the restarted leader never raised its commit index to storaged's")
	}
	waitLog(t, lag, "raftd", "installing received snapshot", 1, 10*time.Second)
	c.StartNode(other)
	c.CheckAlive()
	checkCaughtUp(t, c)
	for _, n := range c.Nodes {
		h.CheckAcked(t, n)
	}
}
