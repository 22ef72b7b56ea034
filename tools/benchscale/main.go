// benchscale - how raftkv's cost grows with its data (make bench-scale).
//
// Starts a 3-node cluster with tools/cluster.sh on loopback (HTTP ports
// 23101.., raft ports 23201.., or -http-base/-raft-base; data under -dir on
// the real disk), then:
//  1. writes distinct keys of 100-byte values in stages up to -keys, and
//     prints per stage the write throughput, p50/p99/p99.9/max latency,
//     disk bytes (LMDB, WAL, snap/) and RSS per node;
//  2. writes -big-mib MiB each of 1 KiB, 64 KiB and 1 MiB values, same figures;
//  3. restarts every node (SIGTERM) and times until all are ready;
//  4. kills a follower, deletes its data directory, restarts it and times
//     until it applied the leader's commit index (the catch-up rate is the
//     leader's LMDB bytes over that time).
//
// It prints figures only: nothing here passes or fails on a number. Failed writes
// are counted by kind (HTTP status and the gateway's error code, or the client's
// error) and listed under each table.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var (
	binDir  = flag.String("bin", "build", "directory of the raftkv binaries")
	dataDir = flag.String("dir", "build/bench-scale", "data directory (deleted first)")
	keys    = flag.Int("keys", 1000000, "distinct 100-byte keys written in all")
	clients = flag.Int("clients", 64, "concurrent writers")
	bigMiB  = flag.Int("big-mib", 256, "MiB written for each large value size")
	// another cluster on these ports would answer for ours (cluster.sh up waits for /readyz)
	httpBase = flag.Int("http-base", 23100, "node i serves HTTP on http-base+i")
	raftBase = flag.Int("raft-base", 23200, "node i's raftd listens on raft-base+i")
)

const nodes = 3

var client = &http.Client{Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

func url(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", *httpBase+i) }

func clusterSh(args ...string) error {
	cmd := exec.Command("tools/cluster.sh", args...)
	cmd.Env = append(os.Environ(), "NODES=3", "BASE_DIR="+*dataDir, "BIN_DIR="+*binDir,
		fmt.Sprintf("HTTP_PORT_BASE=%d", *httpBase), fmt.Sprintf("RAFT_PORT_BASE=%d", *raftBase),
		"LOG_LEVEL=info", "READY_TIMEOUT_S=600")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	return cmd.Run()
}

type status struct {
	Role         string `json:"role"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
}

func getStatus(i int) (status, error) {
	var s status
	r, err := client.Get(url(i) + "/v1/status")
	if err != nil {
		return s, err
	}
	defer r.Body.Close()
	err = json.NewDecoder(r.Body).Decode(&s)
	return s, err
}

func leader() int {
	for t := 0; t < 600; t++ {
		for i := 1; i <= nodes; i++ {
			if s, err := getStatus(i); err == nil && s.Role == "leader" {
				return i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fail("no leader")
	return 0
}

func ready(i int) bool {
	r, err := client.Get(url(i) + "/readyz")
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == 200
}

func fail(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "bench-scale: "+f+"\n", a...)
	_ = clusterSh("down")
	os.Exit(1)
}

// errKinds counts failed writes by kind, for the list under a table.
type errKinds struct {
	mu sync.Mutex
	n  map[string]int
}

var stageErrs = map[string]*errKinds{}

// errKind names a failed write: the HTTP status and the gateway's error code, or the
// client's error without the URL (which differs per key).
func errKind(r *http.Response, body []byte, err error) string {
	if err != nil {
		s := err.Error()
		if i := strings.LastIndex(s, ": "); i >= 0 {
			s = s[i+2:]
		}
		return "client: " + s
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(body, &e)
	return fmt.Sprintf("HTTP %d %s", r.StatusCode, e.Error)
}

func (k *errKinds) add(kind string) {
	k.mu.Lock()
	k.n[kind]++
	k.mu.Unlock()
}

// printErrs lists the failed writes of each stage printed so far, then forgets them.
func printErrs() {
	labels := make([]string, 0, len(stageErrs))
	for l := range stageErrs {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		for kind, n := range stageErrs[l].n {
			fmt.Printf("- %s: %d x %s\n", l, n, kind)
		}
	}
	stageErrs = map[string]*errKinds{}
}

// load writes count keys prefix-<from..from+count) of size bytes; latencies in µs.
func load(prefix string, from, count, size int) (time.Duration, []int64, int64, *errKinds) {
	val := bytes.Repeat([]byte("v"), size)
	var next, errs int64 = int64(from) - 1, 0
	kinds := &errKinds{n: map[string]int{}}
	lat := make([][]int64, *clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for {
				k := atomic.AddInt64(&next, 1)
				if k >= int64(from+count) {
					return
				}
				node := 1 + int(k)%nodes
				t0 := time.Now()
				req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/v1/kv/%s-%d", url(node), prefix, k), bytes.NewReader(val))
				r, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(io.LimitReader(r.Body, 4096))
					_, _ = io.Copy(io.Discard, r.Body)
					r.Body.Close()
				}
				if err != nil || r.StatusCode != 200 {
					atomic.AddInt64(&errs, 1)
					kinds.add(errKind(r, body, err))
					continue
				}
				lat[c] = append(lat[c], time.Since(t0).Microseconds())
			}
		}(c)
	}
	wg.Wait()
	var all []int64
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	return time.Since(start), all, errs, kinds
}

func pct(l []int64, p float64) float64 {
	if len(l) == 0 {
		return 0
	}
	i := int(p * float64(len(l)-1))
	return float64(l[i]) / 1000
}

func dirBytes(p string) int64 {
	var n int64
	_ = filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func rssMiB(node int) float64 {
	var kb int64
	for _, role := range []string{"raftd", "storaged", "gatewayd"} {
		b, err := os.ReadFile(filepath.Join(*dataDir, fmt.Sprintf("node%d", node), role+".pid"))
		if err != nil {
			continue
		}
		st, err := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(st), "\n") {
			if strings.HasPrefix(line, "VmRSS:") {
				f := strings.Fields(line)
				n, _ := strconv.ParseInt(f[1], 10, 64)
				kb += n
			}
		}
	}
	return float64(kb) / 1024
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func nodeDisk(i int) (kv, wal, snap int64) {
	d := filepath.Join(*dataDir, fmt.Sprintf("node%d", i))
	return dirBytes(filepath.Join(d, "kv")), dirBytes(filepath.Join(d, "wal")), dirBytes(filepath.Join(d, "snap"))
}

func row(label string, n int, d time.Duration, l []int64, errs int64) {
	kv, wal, snap := nodeDisk(leader())
	fmt.Printf("| %-22s | %9d | %8.0f | %7.1f | %7.1f | %7.1f | %8.1f | %5d | %8.1f | %7.1f | %6.1f | %7.1f |\n",
		label, n, float64(len(l))/d.Seconds(), pct(l, 0.5), pct(l, 0.99), pct(l, 0.999),
		pct(l, 1.0), errs, mib(kv), mib(wal), mib(snap), rssMiB(1))
}

func header() {
	fmt.Println("| stage                  |    writes |  write/s | p50 ms  | p99 ms  | p99.9ms |   max ms | errs  | LMDB MiB | WAL MiB | snap/  | RSS MiB |")
	fmt.Println("|------------------------|----------:|---------:|--------:|--------:|--------:|---------:|------:|---------:|--------:|-------:|--------:|")
}

func growth() {
	fmt.Printf("\n## Writes of 100-byte values as the store grows to %d keys (%d clients)\n\n", *keys, *clients)
	header()
	done := 0
	for stage := 10000; done < *keys; stage *= 10 {
		if stage > *keys {
			stage = *keys
		}
		d, l, errs, kinds := load("k", done, stage-done, 100)
		label := fmt.Sprintf("to %d keys", stage)
		row(label, stage-done, d, l, errs)
		stageErrs[label] = kinds
		done = stage
	}
	fmt.Println()
	printErrs()
}

func bigValues() {
	fmt.Printf("\n## Large values (%d MiB of each size)\n\n", *bigMiB)
	header()
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		n := (*bigMiB << 20) / size
		d, l, errs, kinds := load(fmt.Sprintf("big%d", size), 0, n, size)
		label := fmt.Sprintf("%d KiB values", size>>10)
		row(label, n, d, l, errs)
		stageErrs[label] = kinds
	}
	fmt.Println()
	printErrs()
}

func restart() {
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
	fmt.Printf("\nrestart of every node (SIGTERM, then start): stopped in %.2f s, all ready in %.2f s (LMDB %.0f MiB, WAL %.0f MiB per node)\n",
		down.Seconds(), time.Since(start).Seconds(), mib(kv), mib(wal))
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
	secs := time.Since(start).Seconds()
	fmt.Printf("wiped follower %d caught up to index %d in %.2f s: %.0f MiB of LMDB at %.0f MB/s (start to applied, image made on demand)\n",
		f, ls.CommitIndex, secs, mib(kv), float64(kv)/1e6/secs)
}

func main() {
	flag.Parse()
	_ = clusterSh("down") // what an interrupted run left
	_ = os.RemoveAll(*dataDir)
	if err := clusterSh("up"); err != nil {
		fail("cluster up: %v", err)
	}
	fmt.Printf("# bench-scale: 3 nodes on loopback, data in %s\n", *dataDir)
	growth()
	restart()
	wipedFollower()
	bigValues()
	if err := clusterSh("down"); err != nil {
		fail("down: %v", err)
	}
}
