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

// TestWatchSeesTxnAndLeaseChanges: transactions and leases go through the
// same per-key writes as single PUTs and DELETEs, so watchers on any node see
// them: all of one transaction's changes under its one index, together and in
// the order of its ops (a delete of an absent key is no change); a lease's
// key deleted when the lease expires, waking a long poll; and deleted at the
// revoke's index when it is revoked. A watch of the follower's whole history
// shows all of it.
func TestWatchSeesTxnAndLeaseChanges(t *testing.T) {
	c := NewCluster(t, 3)
	l := c.Leader(10 * time.Second)
	fs := c.Followers(l)
	f, g := fs[0], fs[1] // f watches; writes go through g (forwarded) and the leader
	if r := Put(l, "w/gone", "0", nil); r.Status != 200 {
		t.Fatalf("put w/gone: %s", r)
	}
	id := mustGrant(t, g, 2000)
	res := mustTxn(t, g, `{"compare":[],"success":[{"op":"put","key":"w/a","value":"1","lease":"`+id+`"},
		{"op":"put","key":"w/b","value":"2"},{"op":"delete","key":"w/gone"},{"op":"delete","key":"w/none"}]}`)
	st, ls, _, body := LongPoll(f, fmt.Sprintf("prefix=w/&from_index=%d&wait=5s", res.Index))
	if st != 200 || len(ls) != 3 || !sameIndex(ls, res.Index) ||
		ls[0].Type != "put" || ls[0].Key != "w/a" || ls[1].Type != "put" || ls[1].Key != "w/b" ||
		ls[2].Type != "delete" || ls[2].Key != "w/gone" {
		t.Fatalf("the transaction's events at %d on follower %d: %d %s", res.Index, f.ID, st, body)
	}
	// the lease expires (no keepalive): a long poll past the transaction wakes on its key's delete
	start := time.Now()
	st, ls, _, body = LongPoll(f, fmt.Sprintf("prefix=w/&from_index=%d&wait=10s", res.Index+1))
	if st != 200 || len(ls) != 1 || ls[0].Type != "delete" || ls[0].Key != "w/a" ||
		ls[0].ModIndex <= res.Index {
		t.Fatalf("the expiry's delete: %d %s", st, body)
	}
	expiry := ls[0].ModIndex
	t.Logf("follower %d's watcher saw the lease's key deleted at %d, %v after it started waiting (ttl 2 s)",
		f.ID, expiry, time.Since(start).Round(time.Millisecond))
	// the follower's whole history: the first put, the transaction, the expiry, in order
	st, ls, _, body = LongPoll(f, "prefix=w/&from_index=1&wait=1s")
	if st != 200 || len(ls) != 5 || ls[0].Type != "put" || ls[0].Key != "w/gone" ||
		!sameIndex(ls[1:4], res.Index) || ls[4].ModIndex != expiry || ls[4].Key != "w/a" {
		t.Fatalf("follower %d's history from index 1: %d %s", f.ID, st, body)
	}
	// revoke: the same, at the revoke's index
	id = mustGrant(t, l, 60000)
	r := do("PUT", kvURL(l, "w/c", "lease="+id), []byte("3"), nil)
	var wr WriteResult
	if r.Status != 200 || json.Unmarshal(r.Body, &wr) != nil {
		t.Fatal(r)
	}
	rv := LeaseRevoke(g, id)
	var rev struct {
		Index uint64 `json:"index"`
	}
	if rv.Status != 200 || json.Unmarshal(rv.Body, &rev) != nil {
		t.Fatal(rv)
	}
	st, ls, _, body = LongPoll(l, fmt.Sprintf("key=w/c&from_index=%d&wait=5s", wr.ModIndex+1))
	if st != 200 || len(ls) != 1 || ls[0].Type != "delete" || ls[0].ModIndex != rev.Index {
		t.Fatalf("the revoke's delete at index %d: %d %s", rev.Index, st, body)
	}
	t.Logf("txn's three changes at index %d, the expiry's delete at %d, the revoke's at %d",
		res.Index, expiry, rev.Index)
}

// sameIndex: every line is a change of the entry at index.
func sameIndex(ls []WatchLine, index uint64) bool {
	for _, w := range ls {
		if w.ModIndex != index {
			return false
		}
	}
	return len(ls) > 0
}
