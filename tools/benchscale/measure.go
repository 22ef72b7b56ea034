package main

// Single-key PUTs by -clients writers: a stage's fixed measured window (random
// overwrites of the store's keys, so the store stays at the stage's size and every
// stage is measured alike) and the large-value loads.

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// put writes one value; its latency in µs, or the failure's kind.
func put(node int, k string, val []byte) (int64, string) {
	t0 := time.Now()
	req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/v1/kv/%s", url(node), k), bytes.NewReader(val))
	r, err := client.Do(req)
	var body []byte
	if err == nil {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 4096))
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if err != nil || r.StatusCode != 200 {
		return 0, errKind(r, body, err)
	}
	return time.Since(t0).Microseconds(), ""
}

// writers runs -clients writers, each calling one(writer, n) for its n-th write until
// it answers false; returns the time taken, sorted latencies (µs) and failures.
func writers(one func(c, n int) (string, []byte, bool)) (time.Duration, []int64, int64, *errKinds) {
	var errs int64
	kinds := &errKinds{n: map[string]int{}}
	lat := make([][]int64, *clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for n := 0; ; n++ {
				k, val, more := one(c, n)
				if !more {
					return
				}
				us, kind := put(1+(c+n)%nodes, k, val)
				if kind != "" {
					atomic.AddInt64(&errs, 1)
					kinds.add(kind)
					continue
				}
				lat[c] = append(lat[c], us)
			}
		}(c)
	}
	wg.Wait()
	return time.Since(start), sortedLatencies(lat), errs, kinds
}

// measure overwrites random keys of a store of size keys for the window d.
func measure(size int, d time.Duration) (time.Duration, []int64, int64, *errKinds) {
	val := bytes.Repeat([]byte("m"), 100)
	end := time.Now().Add(d)
	rngs := make([]*rand.Rand, *clients)
	for c := range rngs {
		rngs[c] = rand.New(rand.NewSource(int64(c + 1)))
	}
	return writers(func(c, n int) (string, []byte, bool) {
		return key(rngs[c].Intn(size)), val, time.Now().Before(end)
	})
}

// overwrite writes count random keys of a store of size keys, one entry each.
func overwrite(size, count int) (time.Duration, []int64, int64, *errKinds) {
	val := bytes.Repeat([]byte("o"), 100)
	next := int64(-1)
	return writers(func(c, n int) (string, []byte, bool) {
		k := atomic.AddInt64(&next, 1)
		return key(int(k*7919) % size), val, k < int64(count)
	})
}

// load writes count new keys prefix-<0..count) of size bytes.
func load(prefix string, count, size int) (time.Duration, []int64, int64, *errKinds) {
	val := bytes.Repeat([]byte("v"), size)
	next := int64(-1)
	return writers(func(c, n int) (string, []byte, bool) {
		k := atomic.AddInt64(&next, 1)
		return fmt.Sprintf("%s-%d", prefix, k), val, k < int64(count)
	})
}

func bigValues() {
	fmt.Printf("\n## Large values (%d MiB of each size)\n\n", *bigMiB)
	header()
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		n := (*bigMiB << 20) / size
		d, l, errs, kinds := load(fmt.Sprintf("big%d", size), n, size)
		label := fmt.Sprintf("%d KiB values", size>>10)
		row(label, n, d, l, errs)
		stageErrs[label] = kinds
	}
	fmt.Println()
	printErrs()
}
