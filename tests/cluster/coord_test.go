// coord_test.go - transactions (POST /v1/txn) and leases (/v1/leases) on a
// real cluster: every kind of bad input with its clear error, the branches,
// idempotent retries, lease keys attached, listed, revoked and expired.
package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

type txnResult struct {
	Succeeded bool   `json:"succeeded"`
	Index     uint64 `json:"index"`
	Replayed  bool   `json:"replayed"`
	Results   []struct {
		Op          string `json:"op"`
		Found       bool   `json:"found"`
		Value       string `json:"value"`
		CreateIndex uint64 `json:"create_index"`
		ModIndex    uint64 `json:"mod_index"`
		Deleted     uint64 `json:"deleted"`
		Error       string `json:"error"`
	} `json:"results"`
}

type leaseInfo struct {
	ID          string   `json:"id"`
	TTLms       uint64   `json:"ttl_ms"`
	RemainingMs uint64   `json:"remaining_ms"`
	Keys        []string `json:"keys"`
}

func Txn(n *Node, body string, hdr map[string]string) Reply {
	return do("POST", n.URL()+"/v1/txn", []byte(body), hdr)
}

func mustTxn(t *testing.T, n *Node, body string) txnResult {
	t.Helper()
	r := Txn(n, body, nil)
	if r.Err != nil || r.Status != 200 {
		t.Fatalf("txn %s: %s", body, r)
	}
	var out txnResult
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("txn answer %q: %v", r.Body, err)
	}
	return out
}

func LeaseGrant(n *Node, ttlMs int) Reply {
	return do("POST", n.URL()+"/v1/leases", []byte(fmt.Sprintf(`{"ttl_ms":%d}`, ttlMs)), nil)
}

func mustGrant(t *testing.T, n *Node, ttlMs int) string {
	t.Helper()
	r := LeaseGrant(n, ttlMs)
	var li leaseInfo
	if r.Err != nil || r.Status != 200 || json.Unmarshal(r.Body, &li) != nil || li.ID == "" {
		t.Fatalf("grant: %s", r)
	}
	return li.ID
}

func LeaseKeepalive(n *Node, id string) Reply {
	return do("PUT", n.URL()+"/v1/leases/"+id+"/keepalive", nil, nil)
}

func LeaseGet(n *Node, id string) Reply { return do("GET", n.URL()+"/v1/leases/"+id, nil, nil) }

func LeaseRevoke(n *Node, id string) Reply {
	return do("DELETE", n.URL()+"/v1/leases/"+id, nil, nil)
}

func expectError(t *testing.T, what string, r Reply, status int, code string) {
	t.Helper()
	if r.Err != nil || r.Status != status || r.ErrorCode() != code {
		t.Errorf("%s: want %d %s, got %s", what, status, code, r)
		return
	}
	var eb ErrorBody
	if json.Unmarshal(r.Body, &eb) != nil || eb.Error.Message == "" {
		t.Errorf("%s: no message in %s", what, r.Body)
	}
}

func TestTxnBadInput(t *testing.T) {
	c := NewCluster(t, 3)
	n := c.Nodes[1]
	long := strings.Repeat("k", 512)
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"op":"get","key":"a"},`, 65), ",") + "]"
	cmps := "[" + strings.TrimSuffix(strings.Repeat(`{"key":"a","exists":true},`, 65), ",") + "]"
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not json", `{"compare":`, 400, "invalid_argument"},
		{"not an object", `[1,2]`, 400, "invalid_argument"},
		{"unknown member", `{"succes":[]}`, 400, "invalid_argument"},
		{"duplicate member", `{"success":[],"success":[]}`, 400, "invalid_argument"},
		{"compare not array", `{"compare":{}}`, 400, "invalid_argument"},
		{"compare without key", `{"compare":[{"exists":true}]}`, 400, "invalid_argument"},
		{"compare empty key", `{"compare":[{"key":"","exists":true}]}`, 400, "invalid_argument"},
		{"compare two targets", `{"compare":[{"key":"a","exists":true,"mod_index":1}]}`, 400, "invalid_argument"},
		{"compare no target", `{"compare":[{"key":"a"}]}`, 400, "invalid_argument"},
		{"exists not bool", `{"compare":[{"key":"a","exists":1}]}`, 400, "invalid_argument"},
		{"mod_index negative", `{"compare":[{"key":"a","mod_index":-1}]}`, 400, "invalid_argument"},
		{"too many compares", `{"compare":` + cmps + `}`, 400, "invalid_argument"},
		{"too many ops", `{"success":` + many + `}`, 400, "invalid_argument"},
		{"unknown op", `{"success":[{"op":"increment","key":"a"}]}`, 400, "invalid_argument"},
		{"op not a string", `{"success":[{"op":1,"key":"a"}]}`, 400, "invalid_argument"},
		{"put without value", `{"success":[{"op":"put","key":"a"}]}`, 400, "invalid_argument"},
		{"value not a string", `{"success":[{"op":"put","key":"a","value":5}]}`, 400, "invalid_argument"},
		{"get with value", `{"success":[{"op":"get","key":"a","value":"x"}]}`, 400, "invalid_argument"},
		{"key too long", `{"success":[{"op":"get","key":"` + long + `"}]}`, 413, "too_large"},
		{"prefix missing", `{"success":[{"op":"delete_prefix"}]}`, 400, "invalid_argument"},
		{"lease zero", `{"success":[{"op":"put","key":"a","value":"v","lease":0}]}`, 400, "invalid_argument"},
		{"lease not a number", `{"success":[{"op":"put","key":"a","value":"v","lease":"x"}]}`, 400, "invalid_argument"},
		{"unknown lease", `{"success":[{"op":"put","key":"a","value":"v","lease":"999999"}]}`, 404, "lease_not_found"},
	}
	for _, tc := range cases {
		expectError(t, tc.name, Txn(n, tc.body, nil), tc.status, tc.code)
	}
	// a body over the limit is refused from its Content-Length, before it is sent
	if line := rawStatusLine(t, n, "POST /v1/txn HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n"); !strings.Contains(line, " 413 ") {
		t.Errorf("a body over the limit: want 413, got %q", line)
	}
	// the unknown-lease branch changed nothing
	if g := Get(n, "a", ""); g.Status != 404 {
		t.Errorf("a refused transaction wrote: %s", g)
	}
	lc := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"ttl too small", "POST", "/v1/leases", `{"ttl_ms":1999}`, 400, "out_of_range"},
		{"ttl too large", "POST", "/v1/leases", `{"ttl_ms":3600001}`, 400, "out_of_range"},
		{"ttl missing", "POST", "/v1/leases", `{}`, 400, "invalid_argument"},
		{"ttl not a number", "POST", "/v1/leases", `{"ttl_ms":"soon"}`, 400, "invalid_argument"},
		{"lease body not json", "POST", "/v1/leases", `ttl=5`, 400, "invalid_argument"},
		{"bad lease id", "GET", "/v1/leases/abc", "", 400, "invalid_argument"},
		{"lease id zero", "DELETE", "/v1/leases/0", "", 400, "invalid_argument"},
		{"keepalive path", "PUT", "/v1/leases/5", "", 404, "not_found"},
		{"unknown lease get", "GET", "/v1/leases/987654", "", 404, "lease_not_found"},
		{"unknown lease keepalive", "PUT", "/v1/leases/987654/keepalive", "", 404, "lease_not_found"},
		{"unknown lease revoke", "DELETE", "/v1/leases/987654", "", 404, "lease_not_found"},
		{"unknown lease put", "PUT", "/v1/kv/x?lease=987654", "v", 404, "lease_not_found"},
		{"bad lease param", "PUT", "/v1/kv/x?lease=abc", "v", 400, "invalid_argument"},
	}
	for _, tc := range lc {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		expectError(t, tc.name, do(tc.method, n.URL()+tc.path, body, nil), tc.status, tc.code)
	}
}

func TestTxnBranches(t *testing.T) {
	c := NewCluster(t, 3)
	n := c.Nodes[0]
	w, err := Put(n, "acct/a", "10", nil).Write()
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"compare":[{"key":"acct/a","mod_index":%d},{"key":"acct/b","exists":false},
		{"key":"acct/a","value":"10"}],
		"success":[{"op":"put","key":"acct/a","value":"5"},{"op":"put","key":"acct/b","value":"5"},
		{"op":"get","key":"acct/a"}],
		"failure":[{"op":"get","key":"acct/a"}]}`, w.ModIndex)
	res := mustTxn(t, c.Nodes[2], body) // from a follower: forwarded to the leader
	if !res.Succeeded || len(res.Results) != 3 || res.Results[2].Value != "5" ||
		res.Results[0].ModIndex != res.Index {
		t.Fatalf("success branch: %+v", res)
	}
	res = mustTxn(t, n, body)
	if res.Succeeded || len(res.Results) != 1 || !res.Results[0].Found || res.Results[0].Value != "5" {
		t.Fatalf("failure branch: %+v", res)
	}
	// delete, delete_prefix, a get of nothing
	res = mustTxn(t, n, `{"success":[{"op":"delete_prefix","prefix":"acct/"},{"op":"delete","key":"none"},
		{"op":"get","key":"acct/a"}]}`)
	if !res.Succeeded || res.Results[0].Deleted != 2 || res.Results[1].Deleted != 0 || res.Results[2].Found {
		t.Fatalf("deletes: %+v", res)
	}
	// a large answer (a value whose JSON is 6 times its size) relayed by a follower
	ctl := strings.Repeat("\x01", 500<<10)
	if r := Put(n, "big", ctl, nil); r.Status != 200 {
		t.Fatal(r)
	}
	leader := c.Leader(10 * time.Second)
	res = mustTxn(t, c.Followers(leader)[0], `{"success":[{"op":"get","key":"big"}]}`)
	if len(res.Results) != 1 || res.Results[0].Value != ctl {
		t.Fatalf("a 3 MB answer through a follower: %d results", len(res.Results))
	}
	// Idempotency-Key: the retry answers the first outcome and applies nothing
	idem := map[string]string{"Idempotency-Key": "txn-once"}
	once := `{"compare":[{"key":"once","exists":false}],"success":[{"op":"put","key":"once","value":"1"}]}`
	r1 := Txn(n, once, idem)
	r2 := Txn(c.Nodes[1], once, idem)
	var a, b txnResult
	if r1.Status != 200 || r2.Status != 200 || json.Unmarshal(r1.Body, &a) != nil ||
		json.Unmarshal(r2.Body, &b) != nil || !a.Succeeded || !b.Succeeded || !b.Replayed ||
		a.Index != b.Index {
		t.Fatalf("idempotent retry: %s / %s", r1, r2)
	}
}

func TestLeaseKeysRevokeAndExpire(t *testing.T) {
	c := NewCluster(t, 3)
	n := c.Nodes[0]
	id := mustGrant(t, n, 5000)
	if r := Put(c.Nodes[1], "svc/one", "x", nil); r.Status != 200 {
		t.Fatal(r)
	}
	if r := do("PUT", kvURL(c.Nodes[1], "svc/one", "lease="+id), []byte("addr"), nil); r.Status != 200 {
		t.Fatalf("put with lease: %s", r)
	}
	// conditions and Idempotency-Key on PUT ?lease=, first attempt and replay alike
	for i := 0; i < 2; i++ {
		r := do("PUT", kvURL(c.Nodes[i], "svc/one", "lease="+id), []byte("again"),
			map[string]string{"If-None-Match": "*", "Idempotency-Key": "lease-put-412"})
		expectError(t, fmt.Sprintf("If-None-Match on an existing key, attempt %d", i+1), r, 412,
			"condition_failed")
		r = do("PUT", kvURL(c.Nodes[i], "svc/new", "lease="+id), []byte("n"),
			map[string]string{"If-None-Match": "*", "Idempotency-Key": "lease-put-ok"})
		if r.Status != 200 || !strings.Contains(string(r.Body), `"lease":"`+id+`"`) {
			t.Errorf("PUT ?lease= with If-None-Match on a new key, attempt %d: %s", i+1, r)
		}
	}
	if r := Delete(n, "svc/new", nil); r.Status != 200 {
		t.Fatal(r)
	}
	mustTxn(t, c.Nodes[2], `{"success":[{"op":"put","key":"svc/two","value":"y","lease":"`+id+`"}]}`)
	r := LeaseGet(c.Nodes[2], id)
	var li leaseInfo
	if r.Status != 200 || json.Unmarshal(r.Body, &li) != nil || li.TTLms != 5000 || len(li.Keys) != 2 {
		t.Fatalf("lease lookup: %s", r)
	}
	// keepalives are no log entries: 100 of them cost no fsync on any node
	time.Sleep(300 * time.Millisecond) // the status every gateway caches is fresh
	before := walFsyncs(t, c)
	if before == 0 {
		t.Errorf("no WAL fsync counted after writes: raftkv_wal_fsyncs_total was not read")
	}
	for i := 0; i < 100; i++ {
		if r := LeaseKeepalive(c.Nodes[i%3], id); r.Status != 200 {
			t.Fatalf("keepalive: %s", r)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if after := walFsyncs(t, c); after != before {
		t.Errorf("100 keepalives cost %d WAL fsyncs", after-before)
	}
	if r := LeaseRevoke(c.Nodes[2], id); r.Status != 200 || !strings.Contains(string(r.Body), `"keys_deleted":2`) {
		t.Fatalf("revoke: %s", r)
	}
	for _, k := range []string{"svc/one", "svc/two"} {
		if g := Get(n, k, ""); g.Status != 404 {
			t.Errorf("%s after revoke: %s", k, g)
		}
	}
	expectError(t, "keepalive after revoke", LeaseKeepalive(n, id), 404, "lease_not_found")

	// expiry: no keepalive, the key lives ttl_ms at least and then goes
	id = mustGrant(t, c.Nodes[1], 2000)
	granted := time.Now()
	if r := do("PUT", kvURL(n, "eph", "lease="+id), []byte("e"), nil); r.Status != 200 {
		t.Fatal(r)
	}
	for {
		g := Get(c.Nodes[2], "eph", "")
		el := time.Since(granted)
		if g.Status == 404 {
			if el < 2000*time.Millisecond {
				t.Fatalf("the key vanished %v after the grant, before its TTL", el)
			}
			t.Logf("expired %v after the grant (ttl 2s)", el)
			break
		}
		if el > 6*time.Second {
			t.Fatalf("the key outlived its lease: %s", g)
		}
		time.Sleep(50 * time.Millisecond)
	}
	expectError(t, "keepalive after expiry", LeaseKeepalive(n, id), 404, "lease_not_found")
}

// rawStatusLine sends head on a new connection and returns the answer's status line.
func rawStatusLine(t *testing.T, n *Node, head string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", n.Host, n.HTTPPort), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return line
}

// nodeMetric reads one unlabelled counter from n's /metrics (0 when absent).
func nodeMetric(t *testing.T, n *Node, name string) uint64 {
	t.Helper()
	r := do("GET", n.URL()+"/metrics", nil, nil)
	if r.Status != 200 {
		t.Fatalf("metrics of node %d: %s", n.ID, r)
	}
	for _, line := range strings.Split(string(r.Body), "\n") {
		var v uint64
		if _, err := fmt.Sscanf(line, name+" %d", &v); err == nil && strings.HasPrefix(line, name+" ") {
			return v
		}
	}
	return 0
}

// walFsyncs sums raftkv_wal_fsyncs_total over the nodes' /metrics.
func walFsyncs(t *testing.T, c *Cluster) uint64 {
	t.Helper()
	var sum uint64
	for _, n := range c.Nodes {
		r := do("GET", n.URL()+"/metrics", nil, nil)
		if r.Status != 200 {
			t.Fatalf("metrics: %s", r)
		}
		for _, line := range strings.Split(string(r.Body), "\n") {
			var v uint64
			if _, err := fmt.Sscanf(line, "raftkv_wal_fsyncs_total %d", &v); err == nil {
				sum += v
			}
		}
	}
	return sum
}
