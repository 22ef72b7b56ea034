// benchscale - how raftkv's cost grows with its data (make bench-scale).
//
// Starts a 3-node cluster with tools/cluster.sh on loopback (HTTP ports
// 30501.., raft ports 30511.., or -http-base/-raft-base; data under -dir on
// the real disk), then:
//  1. grows the store of 100-byte values in stages (10 k, 100 k, 1 M, 10 M keys, up
//     to -keys). Between stages it fills with transactions of 64 puts (fill.go,
//     fast, its own latency recorded); at each stage it measures the same fixed
//     window (-window) of single-key PUTs by -clients writers overwriting random
//     keys of the store (measure.go), and prints the throughput, p50/p99/p99.9/max
//     latency, disk bytes (LMDB, WAL, snap/) and RSS. At 1 M keys and at the last
//     stage it restarts every node (SIGTERM) and times until all are ready;
//  2. kills a follower, deletes its data directory, restarts it and times until
//     it applied the leader's commit index, and in phases from the nodes' logs
//     (catchup.go, phases.go);
//  3. writes -big-mib MiB each of 1 KiB, 64 KiB and 1 MiB values (0: skipped).
//
// -catchup-only fills to -keys and times -catchup-runs wiped followers, nothing else.
// It prints figures only: nothing here passes or fails on a number. Failed writes
// are counted by kind (HTTP status and the gateway's error code, or the client's
// error) and listed under each table.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

var (
	binDir  = flag.String("bin", "build", "directory of the raftkv binaries")
	dataDir = flag.String("dir", "build/bench-scale", "data directory (deleted first)")
	keys    = flag.Int("keys", 1000000, "distinct 100-byte keys in the store at the last stage")
	clients = flag.Int("clients", 64, "concurrent single-key writers of a measured window")
	window  = flag.Duration("window", 15*time.Second, "measured window of single-key PUTs at each stage")
	fillers = flag.Int("fill-clients", 16, "concurrent transaction writers of the fill")
	bigMiB  = flag.Int("big-mib", 256, "MiB written for each large value size (0: no large values)")
	// catch-up only: fill to -keys, then time this many wiped followers
	catchupOnly = flag.Bool("catchup-only", false, "fill to -keys, then only time wiped followers' catch-up")
	catchupRuns = flag.Int("catchup-runs", 2, "wiped followers timed in -catchup-only mode")
	// another cluster on these ports would answer for ours (cluster.sh up waits for /readyz)
	httpBase = flag.Int("http-base", 30500, "node i serves HTTP on http-base+i")
	raftBase = flag.Int("raft-base", 30510, "node i's raftd listens on raft-base+i")
)

const nodes = 3

func clusterSh(args ...string) error {
	cmd := exec.Command("tools/cluster.sh", args...)
	cmd.Env = append(os.Environ(), "NODES=3", "BASE_DIR="+*dataDir, "BIN_DIR="+*binDir,
		fmt.Sprintf("HTTP_PORT_BASE=%d", *httpBase), fmt.Sprintf("RAFT_PORT_BASE=%d", *raftBase),
		"LOG_LEVEL=info", "READY_TIMEOUT_S=600")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	return cmd.Run()
}

func fail(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench-scale: "+f+"\n", a...)
	_ = clusterSh("down")
	os.Exit(1)
}

// stages are the store sizes measured: 10 k, 100 k, ... and -keys last.
func stages() []int {
	var s []int
	for n := 10000; n < *keys; n *= 10 {
		s = append(s, n)
	}
	return append(s, *keys)
}

func growth() {
	fmt.Printf("\n## Single-key writes of 100-byte values as the store grows to %d keys (%d clients, %s at each stage)\n\n",
		*keys, *clients, *window)
	header()
	var notes []string
	done := 0
	for _, stage := range stages() {
		f := fill(done, stage)
		notes = append(notes, f.String())
		done = stage
		label := fmt.Sprintf("at %d keys", stage)
		d, l, errs, kinds := measure(stage, *window)
		row(label, len(l)+int(errs), d, l, errs)
		stageErrs[label] = kinds
		if stage == 1000000 || stage == *keys {
			notes = append(notes, diskNote(stage), restart(stage))
		}
	}
	fmt.Println()
	for _, n := range notes {
		fmt.Println("- " + n)
	}
	printErrs()
}

func catchupOnlyRuns() {
	fmt.Printf("\n## Wiped followers catching up at %d keys\n\n", *keys)
	fmt.Println("- " + fill(0, *keys).String())
	// the fill's transactions are few entries: enough single writes that the log was
	// compacted past its start (a snapshot every 8,192 entries, 2,048 kept for followers)
	d, l, errs, _ := overwrite(*keys, 20000)
	fmt.Printf("- 20,000 single-key writes so the log is compacted: %.0f writes/s, max %.0f ms, %d failed\n",
		float64(len(l))/d.Seconds(), pct(l, 1.0), errs)
	for r := 0; r < *catchupRuns; r++ {
		if r > 0 {
			// the leader deletes an image no follower read for 10 s: each run makes its own
			time.Sleep(12 * time.Second)
		}
		wipedFollower()
	}
}

func main() {
	flag.Parse()
	_ = clusterSh("down") // what an interrupted run left
	_ = os.RemoveAll(*dataDir)
	if err := clusterSh("up"); err != nil {
		fail("cluster up: %v", err)
	}
	fmt.Printf("# bench-scale: 3 nodes on loopback, data in %s\n", *dataDir)
	if *catchupOnly {
		catchupOnlyRuns()
	} else {
		growth()
		fmt.Println()
		wipedFollower()
		if *bigMiB > 0 {
			bigValues()
		}
	}
	if err := clusterSh("down"); err != nil {
		fail("down: %v", err)
	}
}
