// watch_test.go - GET /v1/watch on real clusters: watchers see every
// committed change to their keys exactly once, in index order, with no gap,
// resuming by from_index across kill -9 and SIGSTOP of leaders and
// followers and a partition; long polls; bad input; 410 below the history; 429 past
// --max-watchers; slow_watcher for a client that does not read.
package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// checkWatched compares what a watcher saw with the node's history (dump) and with the acks.
func checkWatched(t *testing.T, name string, got, dump []WatchLine, wr *Writer, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Errorf("%s: %s", name, p)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ModIndex <= got[i-1].ModIndex {
			t.Errorf("%s: index %d after %d: not in order or twice", name, got[i].ModIndex, got[i-1].ModIndex)
		}
	}
	if len(got) != len(dump) {
		t.Errorf("%s: saw %d changes, the history holds %d", name, len(got), len(dump))
	}
	for i := 0; i < len(got) && i < len(dump); i++ {
		if got[i] != dump[i] {
			t.Errorf("%s: change %d is %+v, the history says %+v (a gap or a stranger)", name, i, got[i], dump[i])
			break
		}
	}
	byIndex := map[uint64]WatchLine{}
	for _, l := range got {
		byIndex[l.ModIndex] = l
	}
	wr.mu.Lock()
	defer wr.mu.Unlock()
	for _, a := range wr.acked {
		l, ok := byIndex[a.ModIndex]
		switch {
		case !ok:
			t.Errorf("%s: acknowledged write %+v never seen", name, a)
		case l.Key != a.Key || (a.Delete && l.Type != "delete") || (!a.Delete && (l.Type != "put" || l.Value != a.Value)):
			t.Errorf("%s: acknowledged write %+v seen as %+v", name, a, l)
		}
	}
	for _, l := range got {
		if l.Type == "put" && !wr.tried[l.Value] {
			t.Errorf("%s: a put of %q nobody wrote", name, l.Value)
		}
	}
}

func TestWatchUnderFaults(t *testing.T) {
	c := NewCluster(t, 3)
	const prefix = "w/"
	ws := startWatchers(c, prefix)
	wr := StartWriter(c, prefix, 3)
	pause := func() { time.Sleep(1500 * time.Millisecond) }
	pause()
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	t.Logf("kill -9 follower %d", f.ID)
	c.KillNode(f)
	pause()
	c.StartNode(f)
	pause()
	leader = c.Leader(10 * time.Second)
	t.Logf("kill -9 leader %d", leader.ID)
	c.KillNode(leader)
	pause()
	c.StartNode(leader)
	pause()
	leader = c.Leader(10 * time.Second)
	t.Logf("SIGSTOP leader %d", leader.ID)
	for _, r := range roles {
		c.Signal(leader, r, syscall.SIGSTOP)
	}
	time.Sleep(3 * time.Second)
	for _, r := range roles {
		c.Signal(leader, r, syscall.SIGCONT)
	}
	pause()
	leader = c.Leader(10 * time.Second)
	f = c.Followers(leader)[1]
	t.Logf("SIGSTOP follower %d", f.ID)
	for _, r := range roles {
		c.Signal(f, r, syscall.SIGSTOP)
	}
	time.Sleep(3 * time.Second)
	for _, r := range roles {
		c.Signal(f, r, syscall.SIGCONT)
	}
	pause()
	wr.Stop()
	finishWatch(t, c, wr, ws, prefix)
}

// startWatchers starts one watcher per node (each tries the others in turn when its node fails).
func startWatchers(c *Cluster, prefix string) []*Watcher {
	var ws []*Watcher
	for i := range c.Nodes {
		order := append(append([]*Node{}, c.Nodes[i:]...), c.Nodes[:i]...)
		ws = append(ws, StartWatcher(prefix, order, 1))
	}
	return ws
}

// finishWatch waits for the watchers to catch up with the commit index and checks
// them against every node's history (which must agree) and the writer's acks.
func finishWatch(t *testing.T, c *Cluster, wr *Writer, ws []*Watcher, prefix string) {
	t.Helper()
	c.WaitReady(30 * time.Second)
	st, err := c.Status(c.Leader(10 * time.Second))
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	end := st.CommitIndex
	var dumps [][]WatchLine
	for _, n := range c.Nodes {
		dumps = append(dumps, Dump(t, n, prefix, end))
	}
	for i := 1; i < len(dumps); i++ {
		if fmt.Sprint(dumps[i]) != fmt.Sprint(dumps[0]) {
			t.Errorf("node %d's history differs from node %d's", c.Nodes[i].ID, c.Nodes[0].ID)
		}
	}
	reconnects := 0
	for i, w := range ws {
		w.WaitPast(t, end, 30*time.Second)
		got := w.Stop()
		w.mu.Lock()
		problems := append([]string(nil), w.problems...)
		reconnects += w.reconnects
		w.mu.Unlock()
		checkWatched(t, fmt.Sprintf("watcher %d", i+1), got, dumps[0], wr, problems)
	}
	c.CheckAlive()
	t.Logf("%d acknowledged writes, %d changes up to index %d; %d watchers saw each exactly once in order across %d reconnections",
		len(wr.acked), len(dumps[0]), end, len(ws), reconnects)
}

// A leader cut off from the others: watchers on every side (the minority's
// included) see only committed changes, and all of them once the cut heals.
func TestWatchPartition(t *testing.T) {
	c, nn := newPartitionCluster(t, 3)
	const prefix = "p/"
	ws := startWatchers(c, prefix)
	wr := StartWriter(c, prefix, 3)
	time.Sleep(1500 * time.Millisecond)
	old := c.Leader(10 * time.Second)
	rest := ids(c.Followers(old))
	nn.Cut([]int{old.ID}, rest)
	t.Logf("cut leader %d off from %v", old.ID, rest)
	time.Sleep(6 * time.Second)
	nn.HealAll()
	time.Sleep(2 * time.Second)
	wr.Stop()
	finishWatch(t, c, wr, ws, prefix)
}

func TestWatchLongPoll(t *testing.T) {
	c := NewCluster(t, 3)
	n := c.Nodes[1]
	st, ls, idx, body := LongPoll(n, "key=lp&wait=500ms")
	if st != 200 || len(ls) != 0 || idx == 0 {
		t.Fatalf("idle long poll: %d %s X-Raft-Index %d (want 200 [] and an index)", st, body, idx)
	}
	done := make(chan []WatchLine, 1)
	go func() {
		_, got, _, _ := LongPoll(n, fmt.Sprintf("key=lp&from_index=%d&wait=20s", idx+1))
		done <- got
	}()
	time.Sleep(300 * time.Millisecond)
	r := Put(c.Nodes[0], "lp", "hello", nil)
	if r.Status != 200 && r.Status != 201 {
		t.Fatalf("put: %v", r)
	}
	select {
	case got := <-done:
		if len(got) != 1 || got[0].Type != "put" || got[0].Value != "hello" {
			t.Fatalf("long poll answered %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the long poll did not answer after a put")
	}
	Put(c.Nodes[0], "lp", string([]byte{0xff, 0x00}), nil)
	Delete(c.Nodes[0], "lp", nil)
	st, ls, _, body = LongPoll(n, "key=lp&from_index=1&wait=1s")
	if st != 200 || len(ls) != 3 || ls[1].Encoding != "base64" || ls[1].Value != "/wA=" || ls[2].Type != "delete" {
		t.Fatalf("history of lp: %d %s", st, body)
	}
	t.Logf("long poll: [] with X-Raft-Index when idle, answered on the next put; binary values base64")
}

func TestWatchBadInput(t *testing.T) {
	c := NewClusterOpts(t, 1, ClusterOpts{Extra: map[string][]string{
		"storaged": {"--watch-history=5"}, "gatewayd": {"--max-watchers=2"}}})
	n := c.Nodes[0]
	cases := []struct{ query, param, code string }{
		{"", "key", "invalid_argument"},
		{"key=a&prefix=b", "key", "invalid_argument"},
		{"key=", "key", "invalid_argument"},
		{"key=a&from_index=x", "from_index", "invalid_argument"},
		{"key=a&from_index=-3", "from_index", "invalid_argument"},
		{"key=a&wait=0", "wait", "out_of_range"},
		{"key=a&wait=11m", "wait", "out_of_range"},
		{"key=a&wait=soon", "wait", "invalid_argument"},
		{"key=a&key=b", "key", "invalid_argument"},
		{"key=a&encoding=rot13", "encoding", "invalid_argument"},
	}
	for _, tc := range cases {
		r := do("GET", n.URL()+"/v1/watch?"+tc.query, nil, nil)
		var e struct {
			Error struct{ Code, Message, Param string } `json:"error"`
		}
		if r.Status != 400 || json.Unmarshal(r.Body, &e) != nil || e.Error.Code != tc.code ||
			e.Error.Param != tc.param || e.Error.Message == "" {
			t.Errorf("?%s: %d %s (want 400 %s on %s)", tc.query, r.Status, r.Body, tc.code, tc.param)
		}
	}
	// 410 below the history, with the oldest index kept
	for i := 0; i < 10; i++ {
		Put(n, "h", fmt.Sprint(i), nil)
	}
	r := do("GET", n.URL()+"/v1/watch?key=h&from_index=1&wait=1s", nil, nil)
	var gone struct {
		Error struct {
			Code   string `json:"code"`
			Oldest uint64 `json:"oldest_index"`
		} `json:"error"`
	}
	if r.Status != 410 || json.Unmarshal(r.Body, &gone) != nil || gone.Error.Code != "compacted" || gone.Error.Oldest < 2 {
		t.Fatalf("from_index=1 past a 5-event history: %d %s (want 410 compacted)", r.Status, r.Body)
	}
	st, ls, _, body := LongPoll(n, fmt.Sprintf("key=h&from_index=%d&wait=1s", gone.Error.Oldest))
	if st != 200 || len(ls) == 0 || ls[len(ls)-1].Value != "9" {
		t.Fatalf("from the oldest index kept: %d %s", st, body)
	}
	// HEAD answers at once and holds no place
	for i := 0; i < 5; i++ {
		if r := do("HEAD", n.URL()+"/v1/watch?key=k0", nil, nil); r.Status != 200 {
			t.Fatalf("HEAD /v1/watch: %d", r.Status)
		}
	}
	// 429 past --max-watchers; a closed watcher frees its place
	a, b := openStream(t, n, "k1"), openStream(t, n, "k2")
	r = do("GET", n.URL()+"/v1/watch?key=k3", nil, nil)
	if r.Status != 429 || !strings.Contains(string(r.Body), "too_many_watchers") {
		t.Fatalf("third watcher with --max-watchers=2: %d %s", r.Status, r.Body)
	}
	if m := do("GET", n.URL()+"/metrics", nil, nil); !strings.Contains(string(m.Body), "\nraftkv_watchers 2\n") {
		t.Errorf("/metrics with two watchers open: no raftkv_watchers 2")
	}
	a.Close()
	b.Close()
	ok := false
	for i := 0; i < 100 && !ok; i++ {
		time.Sleep(100 * time.Millisecond)
		st, _, _, _ := LongPoll(n, "key=k3&wait=10ms")
		ok = st == 200
	}
	if !ok {
		t.Fatalf("watchers' places not freed after their clients closed")
	}
	t.Logf("bad parameters 400 with the parameter named; 410 compacted with oldest_index; HEAD holds no place; 429 past --max-watchers")
}

// openStream starts a watch on a raw connection and reads its head.
func openStream(t *testing.T, n *Node, key string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", net.JoinHostPort(n.Host, fmt.Sprint(n.HTTPPort)))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET /v1/watch?key=%s HTTP/1.1\r\nHost: x\r\n\r\n", key)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("watch %s: %v %v", key, resp, err)
	}
	return conn
}

func TestWatchSlowWatcher(t *testing.T) {
	c := NewCluster(t, 1)
	n := c.Nodes[0]
	conn, err := net.Dial("tcp", net.JoinHostPort(n.Host, fmt.Sprint(n.HTTPPort)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetReadBuffer(64 << 10)
	}
	fmt.Fprintf(conn, "GET /v1/watch?prefix=big/&from_index=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	big := strings.Repeat("x", 900<<10)
	writes := 40
	for i := 0; i < writes; i++ {
		if r := Put(n, fmt.Sprintf("big/%d", i), big, nil); r.Status != 200 && r.Status != 201 {
			t.Fatalf("put %d: %d %s", i, r.Status, r.Body)
		}
	}
	// now read it all: the changes that fit, then the slow_watcher line, then the end
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	var last WatchLine
	var lastText string
	seen := 0
	for sc.Scan() {
		lastText = sc.Text()
		if len(lastText) > 300 {
			lastText = lastText[:300]
		}
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		if last.Type == "put" {
			seen++
		}
	}
	if last.Type != "error" || last.Code != "slow_watcher" || last.Index == 0 {
		t.Fatalf("last line %+v after %d changes (want slow_watcher); status %d, %v: %s", last, seen, resp.StatusCode, sc.Err(), lastText)
	}
	st, ls, _, body := LongPoll(n, fmt.Sprintf("prefix=big/&from_index=%d&wait=1s", last.Index))
	if st != 200 || len(ls) == 0 || ls[0].ModIndex != last.Index {
		t.Fatalf("resuming at %d: %d %.200s", last.Index, st, body)
	}
	t.Logf("a client that did not read got %d of %d changes, then slow_watcher at %d; resuming there works", seen, writes, last.Index)
}

// A follower that missed more than the log keeps is restored from a snapshot:
// the watch history comes with it, so the follower serves the same history
// (changes it never applied one by one included) and watchers resume on it.
func TestWatchAfterSnapshotInstall(t *testing.T) {
	c := NewClusterOpts(t, 3, ClusterOpts{Extra: map[string][]string{
		"raftd": {"--snapshot-entries", "32"}}})
	const prefix = "s/"
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	wr := StartWriter(c, prefix, 2)
	time.Sleep(500 * time.Millisecond)
	c.KillNode(f)
	time.Sleep(2 * time.Second) // hundreds of entries, many snapshots past f's log
	c.StartNode(f)
	time.Sleep(time.Second)
	wr.Stop()
	c.WaitReady(30 * time.Second)
	checkCaughtUp(t, c)
	b, _ := os.ReadFile(filepath.Join(f.Dir, "storaged.log"))
	if !strings.Contains(string(b), "snapshot install") {
		t.Fatalf("node %d caught up without a snapshot: the test did not exercise it", f.ID)
	}
	st, err := c.Status(c.Leader(10 * time.Second))
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	want := Dump(t, c.Leader(10*time.Second), prefix, st.CommitIndex)
	got := Dump(t, f, prefix, st.CommitIndex)
	checkWatched(t, fmt.Sprintf("node %d after its snapshot", f.ID), got, want, wr, nil)
	t.Logf("node %d restored from a snapshot serves the same %d changes as the leader, acks included", f.ID, len(want))
}
