// raftkv-bench drives the same HTTP load against raftkv and against etcd 3.4
// (its JSON gateway, /v3/kv/*) and prints throughput and latency for each,
// so that both are measured on one machine in one run: compare the ratios,
// not the absolute figures (the machines are shared and noisy).
//
//	raftkv-bench -target raftkv -urls http://127.0.0.1:4001,... -op put -c 16 -d 10s
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

type result struct {
	ops       int
	errors    int
	latencies []time.Duration
}

func main() {
	target := flag.String("target", "raftkv", "raftkv or etcd")
	urls := flag.String("urls", "http://127.0.0.1:4001", "comma-separated client URLs; load is spread over all")
	op := flag.String("op", "put", "put, get (linearizable) or get-stale")
	conc := flag.Int("c", 16, "concurrent clients (1..1024)")
	dur := flag.Duration("d", 10*time.Second, "duration of the measured run (1s..10m)")
	size := flag.Int("value-bytes", 100, "value size in bytes (1..1048576)")
	keys := flag.Int("keys", 1000, "distinct keys (1..1000000)")
	flag.Parse()
	if *conc < 1 || *conc > 1024 || *dur < time.Second || *dur > 10*time.Minute ||
		*size < 1 || *size > 1<<20 || *keys < 1 || *keys > 1000000 {
		fmt.Fprintln(os.Stderr, "raftkv-bench: a flag is out of range (see -h)")
		os.Exit(2)
	}
	if *target != "raftkv" && *target != "etcd" {
		fmt.Fprintln(os.Stderr, "raftkv-bench: -target must be raftkv or etcd")
		os.Exit(2)
	}
	endpoints := strings.Split(*urls, ",")
	value := bytes.Repeat([]byte("v"), *size)
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}}
	if *op != "put" {
		prefill(client, *target, endpoints[0], *keys, value)
	}
	res := run(client, *target, *op, endpoints, *conc, *dur, *keys, value)
	report(*target, *op, *conc, *size, *dur, res)
}

func request(client *http.Client, target, op, base string, key string, value []byte) error {
	var req *http.Request
	var err error
	switch {
	case target == "raftkv" && op == "put":
		req, err = http.NewRequest("PUT", base+"/v1/kv/"+key, bytes.NewReader(value))
	case target == "raftkv" && op == "get":
		req, err = http.NewRequest("GET", base+"/v1/kv/"+key, nil)
	case target == "raftkv":
		req, err = http.NewRequest("GET", base+"/v1/kv/"+key+"?consistency=stale", nil)
	default:
		req, err = etcdRequest(op, base, key, value)
	}
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func etcdRequest(op, base, key string, value []byte) (*http.Request, error) {
	k := base64.StdEncoding.EncodeToString([]byte(key))
	var path string
	body := map[string]interface{}{"key": k}
	switch op {
	case "put":
		path = "/v3/kv/put"
		body["value"] = base64.StdEncoding.EncodeToString(value)
	case "get":
		path = "/v3/kv/range"
	default:
		path = "/v3/kv/range"
		body["serializable"] = true
	}
	b, _ := json.Marshal(body)
	return http.NewRequest("POST", base+path, bytes.NewReader(b))
}

func prefill(client *http.Client, target, base string, keys int, value []byte) {
	for i := 0; i < keys; i++ {
		if err := request(client, target, "put", base, fmt.Sprintf("bench-%d", i), value); err != nil {
			fmt.Fprintf(os.Stderr, "raftkv-bench: prefill: %v\n", err)
			os.Exit(1)
		}
	}
}

func run(client *http.Client, target, op string, endpoints []string, conc int, dur time.Duration, keys int, value []byte) result {
	var mu sync.Mutex
	var total result
	var wg sync.WaitGroup
	deadline := time.Now().Add(dur)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var r result
			base := endpoints[w%len(endpoints)]
			for i := 0; time.Now().Before(deadline); i++ {
				key := fmt.Sprintf("bench-%d", (w*7919+i)%keys)
				start := time.Now()
				if err := request(client, target, op, base, key, value); err != nil {
					r.errors++
					continue
				}
				r.ops++
				r.latencies = append(r.latencies, time.Since(start))
			}
			mu.Lock()
			total.ops += r.ops
			total.errors += r.errors
			total.latencies = append(total.latencies, r.latencies...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	return total
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[int(float64(len(l)-1)*p)]
}

func report(target, op string, conc, size int, dur time.Duration, r result) {
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	fmt.Printf("bench target=%s op=%s clients=%d value_bytes=%d ops=%d errors=%d ops_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
		target, op, conc, size, r.ops, r.errors, float64(r.ops)/dur.Seconds(),
		float64(pct(r.latencies, 0.50).Microseconds())/1000, float64(pct(r.latencies, 0.99).Microseconds())/1000)
}
