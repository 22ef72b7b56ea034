// quota_test.go - a store filled to its --quota-bytes: writes that add data
// get 507 on every node alike, reads and /readyz go on, DELETEs and shrinking
// PUTs dig out, and then writes work again (issue 9, item 3).
package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

type storageStatus struct {
	Storage struct {
		DataBytes  uint64 `json:"data_bytes"`
		QuotaBytes uint64 `json:"quota_bytes"`
		MapBytes   uint64 `json:"map_bytes"`
		Alarm      bool   `json:"alarm"`
	} `json:"storage"`
}

func storageOf(t *testing.T, n *Node) storageStatus {
	t.Helper()
	r := do("GET", n.URL()+"/v1/status", nil, nil)
	var s storageStatus
	if r.Err != nil || r.Status != 200 || json.Unmarshal(r.Body, &s) != nil {
		t.Fatalf("node %d /v1/status: %d %v %s", n.ID, r.Status, r.Err, r.Body)
	}
	return s
}

func TestQuotaFillDigOut(t *testing.T) {
	const quota = 1 << 20
	c := NewClusterWith(t, 3, nil, map[string][]string{
		"storaged": {"--quota-bytes", fmt.Sprint(quota), "--map-bytes", fmt.Sprint(1 << 20)},
	})
	leader := c.Leader(10 * time.Second)
	value := strings.Repeat("v", 32<<10)
	full := -1
	for i := 0; i < 64; i++ {
		r := Put(leader, fmt.Sprintf("fill%02d", i), value, nil)
		if r.Status == 507 {
			if r.ErrorCode() != "store_full" {
				t.Fatalf("507 with code %q: %s", r.ErrorCode(), r.Body)
			}
			full = i
			break
		}
		if r.Status != 200 {
			t.Fatalf("put %d: %d %v %s", i, r.Status, r.Err, r.Body)
		}
	}
	if full < 20 {
		t.Fatalf("quota %d: 507 after %d writes of 32 KiB, want about 31", quota, full)
	}
	t.Logf("507 store_full after %d writes of 32 KiB (quota %d)", full, quota)
	// every node refuses alike: the refused key exists nowhere; reads and readyz go on
	for _, n := range c.Nodes {
		if r := Put(n, "one-more", value, nil); r.Status != 507 {
			t.Fatalf("node %d: PUT past the quota got %d %s", n.ID, r.Status, r.Body)
		}
		if r := Get(n, "fill00", ""); r.Status != 200 || len(r.Body) != len(value) {
			t.Fatalf("node %d: GET while full: %d", n.ID, r.Status)
		}
		if r := do("GET", n.URL()+"/readyz", nil, nil); r.Status != 200 {
			t.Fatalf("node %d: /readyz while full: %d %s", n.ID, r.Status, r.Body)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for !storageOf(t, leader).Storage.Alarm {
		if time.Now().After(deadline) {
			t.Fatalf("no alarm in /v1/status: %+v", storageOf(t, leader))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// dig out: shrink one value, delete two keys; then a new write fits
	if r := Put(leader, "fill00", "small", nil); r.Status != 200 {
		t.Fatalf("shrinking PUT while full: %d %s", r.Status, r.Body)
	}
	for _, k := range []string{"fill01", "fill02"} {
		if r := Delete(leader, k, nil); r.Status != 200 {
			t.Fatalf("DELETE while full: %d %s", r.Status, r.Body)
		}
	}
	if r := Put(leader, "after-dig", value, nil); r.Status != 200 {
		t.Fatalf("PUT after digging out: %d %s", r.Status, r.Body)
	}
	checkCaughtUp(t, c)
	for _, n := range c.Nodes {
		if r := Get(n, "one-more", "consistency=stale"); r.Status != 404 {
			t.Fatalf("node %d holds a refused write: %d", n.ID, r.Status)
		}
		if r := Get(n, "after-dig", "consistency=stale"); r.Status != 200 {
			t.Fatalf("node %d lacks the write after digging out: %d", n.ID, r.Status)
		}
	}
	s := storageOf(t, leader).Storage
	t.Logf("after digging out: data %d of quota %d, map %d, alarm %v", s.DataBytes, s.QuotaBytes, s.MapBytes, s.Alarm)
	if s.QuotaBytes != quota || s.DataBytes > quota {
		t.Fatalf("status storage %+v", s)
	}
}
