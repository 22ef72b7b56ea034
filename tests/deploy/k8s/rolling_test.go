// rolling_test.go - a rolling restart of the StatefulSet's pods (highest
// ordinal first, one at a time, each back to ready before the next, as
// `kubectl rollout restart` does) under a write load sent, like the client
// Service would, only to pods not being restarted. raftd's leadership handoff
// on SIGTERM must leave no write failed with anything but a retriable refusal:
// 503 (no leader, shutting down; the gateway also waits out the few
// milliseconds a transfer runs, when the core refuses proposals). No 429, no
// 504 (outcome unknown), no 500, no connection error.
package k8s

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const rollingWriters = 3

// loadResult counts the answers of the write load by status and the slowest.
type loadResult struct {
	mu      sync.Mutex
	byCode  map[int]int
	slowest time.Duration
	errs    []string
}

func (r *loadResult) add(code int, took time.Duration, body string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byCode[code]++
	if took > r.slowest {
		r.slowest = took
	}
	if !retriable(code) && len(r.errs) < 5 {
		r.errs = append(r.errs, fmt.Sprintf("%d %.120s", code, body))
	}
}

// retriable: success, or a refusal that says nothing was done.
func retriable(code int) bool { return code == 200 || code == 503 }

func (r *loadResult) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var codes []int
	for c := range r.byCode {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d x %d", r.byCode[c], c))
	}
	return fmt.Sprintf("%s; slowest %.2f s", strings.Join(parts, ", "), r.slowest.Seconds())
}

// writeLoad sends PUTs to the pods marked in service until stop closes.
func (h *podHarness) writeLoad(service []atomic.Bool, stop chan struct{}, res *loadResult,
	wg *sync.WaitGroup) {
	for w := 0; w < rollingWriters; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				p := h.pods[(w+k)%len(h.pods)]
				if !service[p.ordinal].Load() {
					continue
				}
				start := time.Now()
				code, body := httpDo("PUT", fmt.Sprintf("%s/v1/kv/roll/%d/%d", p.url, w, k),
					"x", 10*time.Second)
				res.add(code, time.Since(start), body)
				time.Sleep(20 * time.Millisecond)
			}
		}(w)
	}
}

func (h *podHarness) checkRollingRestart() {
	service := make([]atomic.Bool, len(h.pods))
	for i := range service {
		service[i].Store(true)
	}
	res := &loadResult{byCode: map[int]int{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	h.writeLoad(service, stop, res, &wg)
	handoffs := 0
	for i := len(h.pods) - 1; i >= 0; i-- {
		p := h.pods[i]
		service[i].Store(false) // out of the Service's endpoints first
		time.Sleep(200 * time.Millisecond)
		logs := h.stopPod(p)
		if strings.Contains(logs, "leadership handed over") {
			handoffs++
			h.t.Logf("%s was the leader: %s", p.name, lastLineWith(logs, "leadership handed over"))
		}
		h.startPod(p)
		h.waitReady(p, 60*time.Second)
		service[i].Store(true)
	}
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	h.t.Logf("rolling restart of %d pods under %d writers: %s", len(h.pods), rollingWriters, res)
	if handoffs == 0 {
		h.t.Fatalf("no restarted raftd logged a leadership handoff, yet every pod was restarted")
	}
	if len(res.errs) > 0 {
		h.t.Fatalf("writes failed with other than 503 during the rolling restart: %s",
			strings.Join(res.errs, "; "))
	}
	if res.byCode[200] == 0 {
		h.t.Fatalf("no write succeeded during the rolling restart")
	}
	h.t.Logf("checked: rolling restart: %d handoff(s), no write failed with anything but "+
		"a retriable 503", handoffs)
}

func lastLineWith(text, needle string) string {
	lines := strings.Split(text, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], needle) {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}
