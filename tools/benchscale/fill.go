package main

// The fill between stages: keys written 64 to a transaction (KV_TXN_OPS_MAX), so
// 10 M keys take minutes instead of an hour. Each transaction's latency is recorded:
// the goal "no write slower than 1 s while the store grows" covers these writes too.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const txnOps = 64 // KV_TXN_OPS_MAX (common/kv_limits.h)

type fillStats struct {
	from, to int
	took     time.Duration
	lat      []int64 // µs per transaction, sorted
	errs     int64
	kinds    *errKinds
}

func (f fillStats) String() string {
	s := fmt.Sprintf("fill from %d to %d keys: %d transactions of up to %d puts in %.0f s, %.0f keys/s, transaction p50 %.0f ms, p99 %.0f ms, max %.0f ms, %d failed (retried)",
		f.from, f.to, len(f.lat), txnOps, f.took.Seconds(), float64(f.to-f.from)/f.took.Seconds(),
		pct(f.lat, 0.5), pct(f.lat, 0.99), pct(f.lat, 1.0), f.errs)
	for kind, n := range f.kinds.n {
		s += fmt.Sprintf("; %d x %s", n, kind)
	}
	return s
}

func key(k int) string { return fmt.Sprintf("k-%d", k) }

// txnBody puts keys [from, to) with 100-byte values in one transaction.
func txnBody(from, to int) []byte {
	val := strings.Repeat("v", 100)
	type op struct {
		Op    string `json:"op"`
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	ops := make([]op, 0, to-from)
	for k := from; k < to; k++ {
		ops = append(ops, op{"put", key(k), val})
	}
	b, _ := json.Marshal(map[string][]op{"success": ops})
	return b
}

// postTxn sends one transaction; on failure the error's kind.
func postTxn(node int, body []byte) (string, bool) {
	r, err := client.Post(url(node)+"/v1/txn", "application/json", bytes.NewReader(body))
	var resp []byte
	if err == nil {
		resp, _ = io.ReadAll(io.LimitReader(r.Body, 4096))
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if err != nil || r.StatusCode != 200 {
		return errKind(r, resp, err), false
	}
	return "", true
}

// fillWriter writes transactions until none is left, retrying a failed one.
func fillWriter(c, from, to int, next, done, errs *int64, kinds *errKinds, lat *[]int64) {
	for {
		t := int(atomic.AddInt64(next, 1))
		lo := from + t*txnOps
		if lo >= to {
			return
		}
		hi := lo + txnOps
		if hi > to {
			hi = to
		}
		body := txnBody(lo, hi)
		for try := 0; ; try++ {
			t0 := time.Now()
			kind, ok := postTxn(1+(c+try)%nodes, body)
			*lat = append(*lat, time.Since(t0).Microseconds())
			if ok {
				break
			}
			atomic.AddInt64(errs, 1)
			kinds.add(kind)
			if try == 20 {
				fail("fill: a transaction failed 20 times, last: %s", kind)
			}
			time.Sleep(100 * time.Millisecond)
		}
		atomic.AddInt64(done, int64(hi-lo))
	}
}

// progress prints keys so far, rate and ETA every 5 s until stop is closed.
func progress(from, to int, done *int64, stop chan struct{}) {
	start := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Second):
		}
		n := atomic.LoadInt64(done)
		if n == 0 {
			continue
		}
		rate := float64(n) / time.Since(start).Seconds()
		eta := time.Duration(float64(int64(to-from)-n) / rate * float64(time.Second))
		fmt.Fprintf(os.Stderr, "bench-scale: fill %d keys of %d, %.0f keys/s, ETA %s\n",
			from+int(n), to, rate, eta.Round(time.Second))
	}
}

// fill writes keys [from, to) in transactions of txnOps puts by -fill-clients writers.
func fill(from, to int) fillStats {
	var next, done, errs int64 = -1, 0, 0
	kinds := &errKinds{n: map[string]int{}}
	lat := make([][]int64, *fillers)
	stop := make(chan struct{})
	go progress(from, to, &done, stop)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < *fillers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			fillWriter(c, from, to, &next, &done, &errs, kinds, &lat[c])
		}(c)
	}
	wg.Wait()
	close(stop)
	return fillStats{from, to, time.Since(start), sortedLatencies(lat), errs, kinds}
}
