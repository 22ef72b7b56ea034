// consul_test.go - Consul's KV HTTP API (gatewayd --consul-listen, issue 14)
// driven by Consul's own Go client, github.com/hashicorp/consul/api, against
// a real 3-node cluster: Put, Get, List, Keys, CAS, Delete, DeleteCAS,
// DeleteTree (of the empty prefix too, and past its bound), Flags and
// Status().Leader() through followers, answers that name
// what is not served, and writes and reads across a leader kill.
package cluster

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func consulKV(t *testing.T, n *Node) (*api.Client, *api.KV) {
	t.Helper()
	cfg := api.DefaultConfig()
	cfg.Address = fmt.Sprintf("%s:%d", n.Host, n.Consul)
	cfg.Scheme = "http"
	cfg.Token = "" // no --auth-file here; CONSUL_HTTP_TOKEN from the environment must not leak in
	cl, err := api.NewClient(cfg)
	if err != nil {
		t.Fatalf("consul client for node %d: %v", n.ID, err)
	}
	return cl, cl.KV()
}

// consulCluster starts a 3-node cluster serving Consul's API (CurveZMQ between
// peers when the environment asks) and returns it, its leader and its followers.
func consulCluster(t *testing.T) (*Cluster, *Node, []*Node) {
	t.Helper()
	c := NewClusterOpts(t, 3, ClusterOpts{ConsulAPI: true, Curve: curveFromEnv()})
	leader := c.Leader(10 * time.Second)
	return c, leader, c.Followers(leader)
}

// consulGet reads key on kv, failing the test on an error; nil when absent.
func consulGet(t *testing.T, kv *api.KV, key string, q *api.QueryOptions) *api.KVPair {
	t.Helper()
	p, meta, err := kv.Get(key, q)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if meta.LastIndex == 0 || !meta.KnownLeader {
		t.Errorf("Get(%q): X-Consul-Index %d, KnownLeader %v", key, meta.LastIndex, meta.KnownLeader)
	}
	return p
}

func TestConsulKVThroughFollowers(t *testing.T) {
	c, leader, fs := consulCluster(t)
	_, kv1 := consulKV(t, fs[0])
	cl2, kv2 := consulKV(t, fs[1])

	if _, err := kv1.Put(&api.KVPair{Key: "app/a", Value: []byte("one")}, nil); err != nil {
		t.Fatalf("Put via follower %d: %v", fs[0].ID, err)
	}
	p := consulGet(t, kv2, "app/a", nil)
	if p == nil || string(p.Value) != "one" || p.ModifyIndex == 0 || p.CreateIndex != p.ModifyIndex {
		t.Fatalf("Get via follower %d: %+v", fs[1].ID, p)
	}
	if consulGet(t, kv2, "app/missing", nil) != nil {
		t.Fatalf("Get of a missing key is not nil")
	}
	if q := consulGet(t, kv2, "app/a", &api.QueryOptions{AllowStale: true}); q == nil || string(q.Value) != "one" {
		t.Errorf("stale Get on the follower that forwarded nothing: %+v", q) // read index was applied above
	}
	if q := consulGet(t, kv1, "app/a", &api.QueryOptions{RequireConsistent: true}); q == nil || string(q.Value) != "one" {
		t.Errorf("consistent Get: %+v", q)
	}

	// CAS: 0 creates only; N replaces only version N.
	ok, _, err := kv1.CAS(&api.KVPair{Key: "app/a", Value: []byte("x"), ModifyIndex: 0}, nil)
	if err != nil || ok {
		t.Fatalf("CAS 0 on an existing key: ok=%v err=%v", ok, err)
	}
	ok, _, err = kv1.CAS(&api.KVPair{Key: "app/a", Value: []byte("two"), ModifyIndex: p.ModifyIndex}, nil)
	if err != nil || !ok {
		t.Fatalf("CAS with the current ModifyIndex: ok=%v err=%v", ok, err)
	}
	ok, _, err = kv2.CAS(&api.KVPair{Key: "app/a", Value: []byte("three"), ModifyIndex: p.ModifyIndex}, nil)
	if err != nil || ok {
		t.Fatalf("CAS with a stale ModifyIndex: ok=%v err=%v", ok, err)
	}
	ok, _, err = kv2.CAS(&api.KVPair{Key: "app/sub/x", Value: []byte("new"), ModifyIndex: 0}, nil)
	if err != nil || !ok {
		t.Fatalf("CAS 0 creating a key: ok=%v err=%v", ok, err)
	}
	p2 := consulGet(t, kv1, "app/a", nil)
	if p2 == nil || string(p2.Value) != "two" || p2.CreateIndex != p.CreateIndex || p2.ModifyIndex <= p.ModifyIndex {
		t.Fatalf("after CAS: %+v (before %+v)", p2, p)
	}
	if _, err := kv1.Put(&api.KVPair{Key: "app/sub/y", Value: nil, Flags: 42}, nil); err != nil {
		t.Fatalf("Put of an empty value with flags: %v", err)
	}
	if y := consulGet(t, kv2, "app/sub/y", nil); y == nil || y.Flags != 42 || len(y.Value) != 0 {
		t.Fatalf("Get of a key put with Flags 42: %+v", y)
	}
	if _, err := kv1.Put(&api.KVPair{Key: "other", Value: []byte("o")}, nil); err != nil {
		t.Fatalf("Put: %v", err)
	}

	// List and Keys.
	pairs, _, err := kv2.List("app/", nil)
	if err != nil || len(pairs) != 3 || pairs[0].Key != "app/a" || pairs[1].Key != "app/sub/x" ||
		string(pairs[1].Value) != "new" || pairs[2].Key != "app/sub/y" || len(pairs[2].Value) != 0 ||
		pairs[2].Flags != 42 || pairs[0].Flags != 0 {
		t.Fatalf("List(app/): %v %v", pairs, err)
	}
	keys, _, err := kv2.Keys("app/", "/", nil)
	if err != nil || strings.Join(keys, ",") != "app/a,app/sub/" {
		t.Fatalf("Keys(app/, /): %v %v", keys, err)
	}
	keys, _, err = kv2.Keys("", "", nil)
	if err != nil || strings.Join(keys, ",") != "app/a,app/sub/x,app/sub/y,other" {
		t.Fatalf("Keys(all): %v %v", keys, err)
	}

	// Delete, DeleteCAS, DeleteTree.
	if _, err := kv1.Delete("other", nil); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := kv1.Delete("other", nil); err != nil {
		t.Fatalf("Delete of a missing key (Consul: no error): %v", err)
	}
	x := consulGet(t, kv1, "app/sub/x", nil)
	ok, _, err = kv2.DeleteCAS(&api.KVPair{Key: "app/sub/x", ModifyIndex: x.ModifyIndex + 100}, nil)
	if err != nil || ok {
		t.Fatalf("DeleteCAS with a wrong index: ok=%v err=%v", ok, err)
	}
	ok, _, err = kv2.DeleteCAS(&api.KVPair{Key: "app/sub/x", ModifyIndex: x.ModifyIndex}, nil)
	if err != nil || !ok || consulGet(t, kv1, "app/sub/x", nil) != nil {
		t.Fatalf("DeleteCAS with the right index: ok=%v err=%v", ok, err)
	}
	if _, err := kv2.DeleteTree("app/", nil); err != nil {
		t.Fatalf("DeleteTree: %v", err)
	}
	if pairs, _, err := kv1.List("app/", nil); err != nil || len(pairs) != 0 {
		t.Fatalf("List after DeleteTree: %v %v", pairs, err)
	}

	leaderAddr, err := cl2.Status().Leader()
	if want := fmt.Sprintf("%s:%d", leader.Host, leader.RaftPort); err != nil || leaderAddr != want {
		t.Fatalf("Status().Leader() = %q, %v; want %q", leaderAddr, err, want)
	}
	peers, err := cl2.Status().Peers()
	if err != nil || len(peers) != 3 {
		t.Fatalf("Status().Peers() = %v, %v", peers, err)
	}
	t.Logf("checked: Put/Get/List/Keys/CAS/Delete/DeleteCAS/DeleteTree and Status through followers %d and %d",
		fs[0].ID, fs[1].ID)
	c.CheckAlive()
}

// DeleteTree("") deletes every key, as Consul does, through a follower; past
// a recursive delete's bound (10000 keys) it deletes none and the error says
// to delete in parts, which then works.
func TestConsulDeleteTreeEverything(t *testing.T) {
	c, leader, fs := consulCluster(t)
	_, kv1 := consulKV(t, fs[0])
	_, kv2 := consulKV(t, fs[1])
	for _, k := range []string{"x", "y/z"} {
		if _, err := kv1.Put(&api.KVPair{Key: k, Value: []byte("v")}, nil); err != nil {
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	// 10000 more under big/ (64 puts a transaction): 10002 keys in all
	const big = 10000
	for i := 0; i < big; i += 64 {
		var ops []string
		for j := i; j < i+64 && j < big; j++ {
			ops = append(ops, fmt.Sprintf(`{"op":"put","key":"big/%05d","value":"v"}`, j))
		}
		mustTxn(t, leader, `{"success":[`+strings.Join(ops, ",")+`]}`)
	}
	_, err := kv2.DeleteTree("", nil)
	if err == nil || !strings.Contains(err.Error(), "413") || !strings.Contains(err.Error(), "too_large") ||
		!strings.Contains(err.Error(), "in parts") {
		t.Fatalf("DeleteTree(\"\") of %d keys: err = %v, want 413 too_large asking to delete in parts",
			big+2, err)
	}
	if consulGet(t, kv1, "x", nil) == nil || consulGet(t, kv1, "big/00000", nil) == nil {
		t.Fatalf("the refused DeleteTree(\"\") deleted keys")
	}
	t.Logf("DeleteTree(\"\") of %d keys refused: %v", big+2, err)
	// in parts: the 10000 under big/ (the bound exactly), then everything left
	if _, err := kv2.DeleteTree("big/", nil); err != nil {
		t.Fatalf("DeleteTree(big/) of %d keys: %v", big, err)
	}
	if _, err := kv2.DeleteTree("", nil); err != nil {
		t.Fatalf("DeleteTree(\"\") of the last keys: %v", err)
	}
	keys, _, err := kv1.Keys("", "", nil)
	if err != nil || len(keys) != 0 {
		t.Fatalf("Keys after DeleteTree(\"\") through follower %d: %v %v", fs[1].ID, keys, err)
	}
	if _, err := kv1.DeleteTree("", nil); err != nil {
		t.Fatalf("DeleteTree(\"\") of an empty store (Consul: no error): %v", err)
	}
	c.CheckAlive()
}

// What raftkv does not serve is an error naming it, never a silent wrong answer.
func TestConsulUnsupportedAreErrors(t *testing.T) {
	c, _, fs := consulCluster(t)
	cl, kv := consulKV(t, fs[0])
	if _, err := kv.Put(&api.KVPair{Key: "k", Value: []byte("v")}, nil); err != nil {
		t.Fatalf("Put: %v", err)
	}
	type refused struct {
		name string
		err  error
		want string // in the error: what is missing
	}
	var cases []refused
	_, _, err := kv.Get("k", &api.QueryOptions{Datacenter: "dc2"})
	cases = append(cases, refused{"?dc=", err, "datacenters"})
	_, _, err = kv.Acquire(&api.KVPair{Key: "k", Session: "s"}, nil)
	cases = append(cases, refused{"Acquire", err, "sessions"})
	_, _, err = cl.Session().Create(&api.SessionEntry{}, nil)
	cases = append(cases, refused{"Session().Create", err, "sessions"})
	_, _, _, err = cl.Txn().Txn(api.TxnOps{&api.TxnOp{KV: &api.KVTxnOp{Verb: api.KVGet, Key: "k"}}}, nil)
	cases = append(cases, refused{"Txn", err, "transactions"})
	for _, tc := range cases {
		// the client words its errors per endpoint; the body (code and message) is in all of them
		if tc.err == nil || !strings.Contains(tc.err.Error(), "not_implemented") ||
			!strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want not_implemented naming %q", tc.name, tc.err, tc.want)
		}
	}
	if p := consulGet(t, kv, "k", nil); p == nil || string(p.Value) != "v" {
		t.Errorf("the refused writes changed the key: %+v", p)
	}
	checkConsulMetrics(t, fs[0])
	c.CheckAlive()
}

// checkConsulMetrics: the Consul requests answered by n are counted under
// their own route labels in n's /metrics, not as route="none".
func checkConsulMetrics(t *testing.T, n *Node) {
	t.Helper()
	r := do("GET", n.URL()+"/metrics", nil, nil)
	if r.Err != nil || r.Status != 200 {
		t.Fatalf("GET /metrics on node %d: %s", n.ID, r)
	}
	for _, want := range []string{
		`raftkv_http_requests_total{route="consul_kv",method="PUT",code="200"}`,
		`raftkv_http_requests_total{route="consul_kv",method="GET",code="200"}`,
		`raftkv_http_requests_total{route="consul_session",method="PUT",code="other"}`,
		`raftkv_http_requests_total{route="consul_txn",method="PUT",code="other"}`,
		`raftkv_http_request_duration_seconds_count{route="consul_kv"}`,
	} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("node %d's /metrics has no %s; its route labels:\n%s", n.ID, want,
				grepLines(string(r.Body), "raftkv_http_requests_total{"))
		}
	}
}

// grepLines is the lines of text that contain s.
func grepLines(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A blocking Get (WaitIndex) returns when the key changes past the index, or
// when its wait runs out; a blocking List wakes on a write under its prefix.
func TestConsulBlockingGet(t *testing.T) {
	c, _, fs := consulCluster(t)
	_, kvF := consulKV(t, fs[0])
	_, kvW := consulKV(t, fs[1])
	if _, err := kvW.Put(&api.KVPair{Key: "blk/a", Value: []byte("v1")}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := kvW.Put(&api.KVPair{Key: "other", Value: []byte("x")}, nil); err != nil {
		t.Fatal(err)
	}
	p, meta, err := kvF.Get("blk/a", nil)
	if err != nil || p == nil {
		t.Fatalf("Get: %+v %v", p, err)
	}
	// no change: the wait runs out and the same value comes back
	start := time.Now()
	q, meta2, err := kvF.Get("blk/a", &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Second})
	if err != nil || q == nil || string(q.Value) != "v1" || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("blocking Get without a change: %+v %v after %v", q, err, time.Since(start))
	}
	// a write to another key does not wake it; one to the key does
	type got struct {
		p    *api.KVPair
		meta *api.QueryMeta
		err  error
		at   time.Time
	}
	ch := make(chan got, 1)
	go func() {
		p, m, err := kvF.Get("blk/a", &api.QueryOptions{WaitIndex: meta2.LastIndex, WaitTime: 20 * time.Second})
		ch <- got{p, m, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := kvW.Put(&api.KVPair{Key: "other", Value: []byte("y")}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-ch:
		t.Fatalf("a write to another key woke the blocking Get: %+v %v", g.p, g.err)
	case <-time.After(500 * time.Millisecond):
	}
	wrote := time.Now()
	if _, err := kvW.Put(&api.KVPair{Key: "blk/a", Value: []byte("v2")}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-ch:
		if g.err != nil || g.p == nil || string(g.p.Value) != "v2" || g.meta.LastIndex <= meta2.LastIndex {
			t.Fatalf("woken blocking Get: %+v %+v %v", g.p, g.meta, g.err)
		}
		t.Logf("blocking Get woke %v after the write, X-Consul-Index %d -> %d", g.at.Sub(wrote),
			meta2.LastIndex, g.meta.LastIndex)
	case <-time.After(5 * time.Second):
		t.Fatalf("the blocking Get did not wake on a write to its key")
	}
	// a blocking List wakes on a new key under its prefix
	_, lm, err := kvF.List("blk/", nil)
	if err != nil {
		t.Fatal(err)
	}
	lch := make(chan got, 1)
	go func() {
		ps, m, err := kvF.List("blk/", &api.QueryOptions{WaitIndex: lm.LastIndex, WaitTime: 20 * time.Second})
		var last *api.KVPair
		if len(ps) > 0 {
			last = ps[len(ps)-1]
		}
		lch <- got{last, m, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond)
	if _, err := kvW.Put(&api.KVPair{Key: "blk/b", Value: []byte("new")}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-lch:
		if g.err != nil || g.p == nil || g.p.Key != "blk/b" {
			t.Fatalf("woken blocking List: %+v %v", g.p, g.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the blocking List did not wake on a new key under its prefix")
	}
	c.CheckAlive()
}

// consulPutRetry puts key through kv until it answers (an election may be under way).
func consulPutRetry(t *testing.T, kv *api.KV, key, value string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		_, err := kv.Put(&api.KVPair{Key: key, Value: []byte(value)}, nil)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Put(%q) did not succeed within %v: %v", key, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestConsulAcrossLeaderKill(t *testing.T) {
	c, leader, fs := consulCluster(t)
	cl0, kv0 := consulKV(t, fs[0])
	_, kv1 := consulKV(t, fs[1])
	for i := 0; i < 10; i++ {
		consulPutRetry(t, kv0, fmt.Sprintf("before/%d", i), fmt.Sprint(i), 5*time.Second)
	}
	c.KillNode(leader)
	t.Logf("killed leader node %d", leader.ID)
	for i := 0; i < 10; i++ {
		consulPutRetry(t, kv1, fmt.Sprintf("after/%d", i), fmt.Sprint(i), 15*time.Second)
	}
	newLeader := c.Leader(10 * time.Second)
	if newLeader == leader {
		t.Fatalf("the killed node is still the leader")
	}
	for _, kv := range []*api.KV{kv0, kv1} {
		for _, prefix := range []string{"before/", "after/"} {
			pairs, _, err := kv.List(prefix, &api.QueryOptions{RequireConsistent: true})
			if err != nil || len(pairs) != 10 {
				t.Fatalf("List(%s) after the kill: %d pairs, %v", prefix, len(pairs), err)
			}
		}
	}
	addr, err := cl0.Status().Leader()
	if want := fmt.Sprintf("%s:%d", newLeader.Host, newLeader.RaftPort); err != nil || addr != want {
		t.Fatalf("Status().Leader() after the kill = %q, %v; want %q", addr, err, want)
	}
	// the old leader comes back as a follower and serves what was written without it
	c.StartNode(leader)
	c.WaitReady(20 * time.Second)
	_, kvOld := consulKV(t, leader)
	if p := consulGet(t, kvOld, "after/9", nil); p == nil || string(p.Value) != "9" {
		t.Fatalf("the restarted node's Consul API: after/9 = %+v", p)
	}
	t.Logf("checked: writes through followers before and after killing leader %d; new leader %d; restart catches up",
		leader.ID, newLeader.ID)
	c.CheckAlive()
}

// With --auth-file the Consul API takes raftkv's tokens from X-Consul-Token
// (the client's Token) or ?token=, with their roles and key prefixes.
func TestConsulTokens(t *testing.T) {
	const admin, appWrite, read = "consul-admin-token-0123456789", "consul-app-write-0123456789",
		"consul-read-token-01234567890"
	auth := t.TempDir() + "/auth.txt"
	lines := admin + " admin\n" + appWrite + " write app/\n" + read + " read\n"
	if err := os.WriteFile(auth, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	c := NewClusterOpts(t, 3, ClusterOpts{ConsulAPI: true, Curve: curveFromEnv(),
		Extra: map[string][]string{"gatewayd": {"--auth-file", auth}},
		Quick: &http.Client{Timeout: 2 * time.Second, Transport: bearer{admin, http.DefaultTransport}}})
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	with := func(token string) *api.KV {
		cfg := api.DefaultConfig()
		cfg.Address = fmt.Sprintf("%s:%d", f.Host, f.Consul)
		cfg.Token = token
		cl, err := api.NewClient(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cl.KV()
	}
	if _, err := with(appWrite).Put(&api.KVPair{Key: "app/x", Value: []byte("1")}, nil); err != nil {
		t.Fatalf("Put with a write token, inside its prefix, via a follower: %v", err)
	}
	if _, err := with(appWrite).Put(&api.KVPair{Key: "other", Value: []byte("1")}, nil); err == nil ||
		!strings.Contains(err.Error(), "403") {
		t.Fatalf("Put outside the token's prefix: %v, want 403", err)
	}
	if _, err := with(read).Put(&api.KVPair{Key: "app/y", Value: []byte("1")}, nil); err == nil ||
		!strings.Contains(err.Error(), "403") {
		t.Fatalf("Put with a read token: %v, want 403", err)
	}
	if _, _, err := with("").Get("app/x", nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Get without a token: %v, want 401", err)
	}
	if p, _, err := with(read).Get("app/x", nil); err != nil || p == nil || string(p.Value) != "1" {
		t.Fatalf("Get with a read token: %+v %v", p, err)
	}
	u := fmt.Sprintf("http://%s:%d/v1/kv/app/x?raw&token=%s", f.Host, f.Consul, read)
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || string(body) != "1" {
		t.Fatalf("GET ?raw&token=: %d %q", r.StatusCode, body)
	}
	t.Logf("checked: X-Consul-Token and ?token= carry raftkv's tokens; roles and prefixes hold")
	c.CheckAlive()
}
