package main

// What a stage prints: its table row, failed writes by kind, disk and RSS per node.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

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

// sortedLatencies merges per-writer latencies (µs) into one sorted slice.
func sortedLatencies(per [][]int64) []int64 {
	var all []int64
	for _, l := range per {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	return all
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

// diskNote gives each node's disk (LMDB file, WAL, snap/), its ratio to the LMDB pages
// in use plus the WAL, and RSS, at a stage.
func diskNote(stage int) string {
	s := fmt.Sprintf("disk and RSS per node at %d keys:", stage)
	for i := 1; i <= nodes; i++ {
		kv, wal, snap := nodeDisk(i)
		st, _ := getStatus(i)
		used := st.Storage.UsedBytes
		s += fmt.Sprintf(" node %d: LMDB file %.0f MiB (pages in use %.0f, keys and values %.0f) + WAL %.0f + snap/ %.0f = %.2f x (pages in use + WAL), RSS %.0f MiB;",
			i, mib(kv), mib(used), mib(st.Storage.DataBytes), mib(wal), mib(snap),
			float64(kv+wal+snap)/float64(used+wal), rssMiB(i))
	}
	return strings.TrimSuffix(s, ";")
}
