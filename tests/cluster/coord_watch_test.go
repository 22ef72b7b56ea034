// coord_watch_test.go - watchers see what transactions and leases change: a
// transaction's writes as events of one index, a revoked or expired lease's
// keys as deletes at the index of the entry that ended it.
package cluster

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestWatchSeesTxnAndLeaseChanges(t *testing.T) {
	c := NewCluster(t, 3)
	n := c.Nodes[0]
	id := mustGrant(t, n, 2000)
	res := mustTxn(t, c.Nodes[1], `{"success":[{"op":"put","key":"w/a","value":"1","lease":"`+id+`"},
		{"op":"put","key":"w/b","value":"2"},{"op":"delete","key":"w/none"}]}`)
	st, ls, _, body := LongPoll(c.Nodes[2], fmt.Sprintf("prefix=w/&from_index=%d&wait=5s", res.Index))
	if st != 200 || len(ls) != 2 || ls[0].Key != "w/a" || ls[1].Key != "w/b" ||
		ls[0].ModIndex != res.Index || ls[1].ModIndex != res.Index || ls[0].Type != "put" {
		t.Fatalf("the transaction's events: %d %s", st, body)
	}
	// the lease expires (no keepalive): its key's delete is an event too
	start := time.Now()
	st, ls, _, body = LongPoll(c.Nodes[2], fmt.Sprintf("prefix=w/&from_index=%d&wait=10s", res.Index+1))
	if st != 200 || len(ls) != 1 || ls[0].Type != "delete" || ls[0].Key != "w/a" {
		t.Fatalf("the expiry's delete: %d %s", st, body)
	}
	t.Logf("a watcher saw the lease's key deleted %v after it started waiting (ttl 2 s)", time.Since(start))
	// revoke: the same, at the revoke's index
	id = mustGrant(t, n, 60000)
	r := do("PUT", kvURL(n, "w/c", "lease="+id), []byte("3"), nil)
	var wr WriteResult
	if r.Status != 200 || json.Unmarshal(r.Body, &wr) != nil {
		t.Fatal(r)
	}
	rv := LeaseRevoke(c.Nodes[1], id)
	var rev struct {
		Index uint64 `json:"index"`
	}
	if rv.Status != 200 || json.Unmarshal(rv.Body, &rev) != nil {
		t.Fatal(rv)
	}
	st, ls, _, body = LongPoll(c.Nodes[0], fmt.Sprintf("key=w/c&from_index=%d&wait=5s", wr.ModIndex+1))
	if st != 200 || len(ls) != 1 || ls[0].Type != "delete" || ls[0].ModIndex != rev.Index {
		t.Fatalf("the revoke's delete at index %d: %d %s", rev.Index, st, body)
	}
}
