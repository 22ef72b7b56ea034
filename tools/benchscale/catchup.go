package main

// Restart of every node, and a wiped follower's catch-up.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// restart stops every node (SIGTERM), starts them and times until all are ready.
func restart(stage int) string {
	start := time.Now()
	if err := clusterSh("down"); err != nil {
		fail("down: %v", err)
	}
	down := time.Since(start)
	start = time.Now()
	if err := clusterSh("up"); err != nil {
		fail("up: %v", err)
	}
	for i := 1; i <= nodes; i++ {
		for !ready(i) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	kv, wal, _ := nodeDisk(1)
	return fmt.Sprintf("restart of every node at %d keys (SIGTERM, then start): stopped in %.2f s, all ready in %.2f s (LMDB %.0f MiB, WAL %.0f MiB per node)",
		stage, down.Seconds(), time.Since(start).Seconds(), mib(kv), mib(wal))
}

func wipedFollower() {
	l := leader()
	f := 1 + l%nodes
	for _, role := range []string{"gatewayd", "raftd", "storaged"} {
		if err := clusterSh("stop", strconv.Itoa(f), role, "KILL"); err != nil {
			fail("kill -9 node %d %s: %v", f, role, err)
		}
	}
	d := filepath.Join(*dataDir, fmt.Sprintf("node%d", f))
	for _, sub := range []string{"kv", "wal", "snap"} {
		_ = os.RemoveAll(filepath.Join(d, sub))
	}
	ls, err := getStatus(l)
	if err != nil {
		fail("status: %v", err)
	}
	kv, _, _ := nodeDisk(l)
	start := time.Now()
	if err := clusterSh("start", strconv.Itoa(f)); err != nil {
		fail("start %d: %v", f, err)
	}
	for {
		s, err := getStatus(f)
		if err == nil && s.AppliedIndex >= ls.CommitIndex {
			break
		}
		if time.Since(start) > 10*time.Minute {
			fmt.Printf("wiped follower %d did NOT catch up to index %d within 10 min\n", f, ls.CommitIndex)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	end := time.Now()
	secs := end.Sub(start).Seconds()
	fmt.Printf("wiped follower %d caught up to index %d in %.2f s: %.0f MiB of LMDB at %.0f MB/s (start to applied, image made on demand)\n",
		f, ls.CommitIndex, secs, mib(kv), float64(kv)/1e6/secs)
	fmt.Printf("  %s\n", phases(l, f, start, end, kv))
}
