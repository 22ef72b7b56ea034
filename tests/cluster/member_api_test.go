// member_api_test.go - the membership routes' answers to bad input against a
// real 3-node cluster (POST /v1/members, POST /v1/members/{id}/promote,
// DELETE /v1/members/{id}, the seed's POST /raft/join): each refusal with its
// status and code, a second change while one is uncommitted (409
// change_in_progress), changes answered only once committed, and removals
// down to the last voter (409 last_voter).
package cluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// postJSON is POST u with body as application/json.
func postJSON(u, body string) Reply {
	return do("POST", u, []byte(body), map[string]string{"Content-Type": "application/json"})
}

// changeIndex is the "index" of a membership change's answer.
func changeIndex(t *testing.T, r Reply) uint64 {
	t.Helper()
	var a struct {
		Index uint64 `json:"index"`
	}
	if err := json.Unmarshal(r.Body, &a); err != nil || a.Index == 0 {
		t.Fatalf("no index in %s", r)
	}
	return a.Index
}

func TestMemberAPIBadInput(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	via := c.Followers(leader)[0]
	addr := func(n *Node) string { return fmt.Sprintf("%s:%d", n.Host, n.RaftPort) }
	add := via.URL() + "/v1/members"
	for _, bad := range []struct {
		what, body string
		status     int
		code       string
	}{
		{"malformed JSON", `{"id":4,`, 400, "invalid_argument"},
		{"not an object", `[4]`, 400, "invalid_argument"},
		{"an unknown member", `{"id":4,"peer_address":"127.0.0.1:1","url":"http://127.0.0.1:2","voter":true}`, 400, "invalid_argument"},
		{"a repeated member", `{"id":4,"id":5,"peer_address":"127.0.0.1:1","url":"http://127.0.0.1:2"}`, 400, "invalid_argument"},
		{"id 0", `{"id":0,"peer_address":"127.0.0.1:1","url":"http://127.0.0.1:2"}`, 400, "invalid_argument"},
		{"id 65536", `{"id":65536,"peer_address":"127.0.0.1:1","url":"http://127.0.0.1:2"}`, 400, "invalid_argument"},
		{"a bad host:port", `{"id":4,"peer_address":"127.0.0.1","url":"http://127.0.0.1:2"}`, 400, "invalid_argument"},
		{"a bad url", `{"id":4,"peer_address":"127.0.0.1:1","url":"ftp://127.0.0.1:2"}`, 400, "invalid_argument"},
		{"a bad curve_key", `{"id":4,"peer_address":"127.0.0.1:1","url":"http://127.0.0.1:2","curve_key":"abc"}`, 400, "invalid_argument"},
		{"a duplicate id", `{"id":2,"peer_address":"127.0.0.1:1","url":"http://127.0.0.1:2"}`, 409, "member_exists"},
		{"a duplicate address", fmt.Sprintf(`{"id":9,"peer_address":%q,"url":"http://127.0.0.1:2"}`, addr(c.Nodes[2])), 409, "member_exists"},
		{"a body over 4 KiB", `{"id":4,"peer_address":"` + strings.Repeat("a", 5000) + `:1"}`, 413, "too_large"},
	} {
		r := postJSON(add, bad.body)
		if r.Err != nil || r.Status != bad.status || jsonCode(r) != bad.code {
			t.Errorf("POST /v1/members with %s: %s, want %d %s", bad.what, r, bad.status, bad.code)
		}
	}
	for _, bad := range []struct {
		path   string
		status int
		code   string
	}{{"/v1/members/2/promote", 400, "already_voter"}, {"/v1/members/9/promote", 404, "member_not_found"},
		{"/v1/members/0/promote", 400, "invalid_argument"}, {"/v1/members/3/demote", 404, "not_found"}} {
		r := postJSON(via.URL()+bad.path, "")
		if r.Err != nil || r.Status != bad.status || jsonCode(r) != bad.code {
			t.Errorf("POST %s: %s, want %d %s", bad.path, r, bad.status, bad.code)
		}
	}
	// the seed's join: its own answers (422 {"error"}), a join of a present member succeeds
	r := postJSON(via.URL()+"/raft/join", `{"node_id": "node_x", "raft_address": "127.0.0.1:1"}`)
	if r.Status != 422 || !strings.Contains(string(r.Body), `"error":"error binding: node_id`) {
		t.Errorf("POST /raft/join with a bad node_id: %s", r)
	}
	r = postJSON(via.URL()+"/raft/join", fmt.Sprintf(`{"node_id":"node_2","raft_address":"127.0.0.1:%d"}`, c.Nodes[2].RaftPort))
	if r.Status != 422 || !strings.Contains(string(r.Body), `"code":"member_exists"`) {
		t.Errorf("POST /raft/join of node 2 at node 3's address: %s", r)
	}
	r = postJSON(via.URL()+"/raft/join", fmt.Sprintf(`{"node_id":"node_2","raft_address":%q}`, addr(c.Nodes[1])))
	want := fmt.Sprintf(`"message":"node node_2 at %s joined successfully"`, addr(c.Nodes[1]))
	if r.Status != 200 || !strings.Contains(string(r.Body), want) || !strings.Contains(string(r.Body), `"data":{"node_id":"node_`) {
		t.Errorf("POST /raft/join of node 2 as it is: %s", r)
	}
	t.Logf("bad input: 12 bodies, 4 promotions, 3 joins answered as documented")

	changeInProgress(t, c)
	removeToLastVoter(t, c)
}

// changeInProgress: with both followers stopped the leader cannot commit a
// removal; a second change meanwhile is refused with 409 change_in_progress.
// The first then ends committed (200), dropped by the election that follows
// (503 change_lost), or unknown (504), and the configuration must agree.
func changeInProgress(t *testing.T, c *Cluster) {
	leader := c.Leader(10 * time.Second)
	fs := c.Followers(leader)
	for _, f := range fs {
		stopNode(c, f, syscall.SIGSTOP)
	}
	first := make(chan Reply, 1)
	go func() {
		first <- do("DELETE", fmt.Sprintf("%s/v1/members/%d?timeout=8000&force=true", leader.URL(), fs[0].ID), nil, nil)
	}()
	time.Sleep(200 * time.Millisecond) // the first is proposed before the second is sent
	var second Reply
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		second = do("DELETE", fmt.Sprintf("%s/v1/members/%d?timeout=300&force=true", leader.URL(), fs[1].ID), nil, nil)
		if second.Status == 409 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	select { // no follower can have stored the entry: it cannot be committed yet
	case r := <-first:
		for _, f := range fs {
			stopNode(c, f, syscall.SIGCONT)
		}
		t.Fatalf("the removal was answered while no follower could store it: %s", r)
	default:
	}
	for _, f := range fs {
		stopNode(c, f, syscall.SIGCONT)
	}
	if second.Status != 409 || jsonCode(second) != "change_in_progress" {
		t.Fatalf("a second change while one is uncommitted: %s, want 409 change_in_progress", second)
	}
	r := <-first
	c.Leader(10 * time.Second)
	present := false
	for _, m := range listMembers(t, c.Nodes[leader.ID-1]).Members {
		present = present || m.ID == uint64(fs[0].ID)
	}
	switch {
	case r.Status == 200 && !present, r.Status == 503 && jsonCode(r) == "change_lost" && present,
		r.Status == 504:
		t.Logf("change in progress: the second change got 409; the first ended %d %s (node %d present: %v)",
			r.Status, jsonCode(r), fs[0].ID, present)
	default:
		t.Fatalf("the first change: %s, but node %d present: %v", r, fs[0].ID, present)
	}
}

// removeToLastVoter removes members through whichever node is left until
// one voter remains; each removal is committed when answered; the last
// voter cannot be removed.
func removeToLastVoter(t *testing.T, c *Cluster) {
	for {
		leader := c.Leader(10 * time.Second)
		l := listMembers(t, leader)
		if len(l.Members) == 1 {
			r := do("DELETE", fmt.Sprintf("%s/v1/members/%d", leader.URL(), l.Members[0].ID), nil, nil)
			if r.Status != 409 || jsonCode(r) != "last_voter" {
				t.Fatalf("removing the last voter: %s, want 409 last_voter", r)
			}
			t.Logf("down to node %d: removing it is 409 last_voter", l.Members[0].ID)
			return
		}
		victim := l.Members[len(l.Members)-1].ID // the leader too, in its turn
		r := removeMember(t, leader, int(victim), 15*time.Second)
		if r.Status != 200 {
			t.Fatalf("removing node %d through node %d: %s", victim, leader.ID, r)
		}
		index := changeIndex(t, r)
		var after memberList
		for _, n := range c.Nodes {
			if uint64(n.ID) == victim {
				continue
			}
			if s := do("GET", n.URL()+"/v1/members", nil, nil); s.Status == 200 {
				_ = json.Unmarshal(s.Body, &after)
				break
			}
		}
		if after.CommitIndex < index {
			t.Fatalf("removal of node %d answered at index %d, but the leader's commit index is %d",
				victim, index, after.CommitIndex)
		}
		for _, m := range after.Members {
			if m.ID == victim {
				t.Fatalf("node %d still a member after its removal was answered: %+v", victim, after)
			}
		}
		c.KillNode(c.Nodes[victim-1]) // removed: it must not confuse Leader()
	}
}

// TestMemberLearnerLeads: a 4th node added as a
// learner (promote false) through POST /v1/members serves a linearizable
// read of a key written before it came, stays a learner until POST
// /v1/members/4/promote, and once it leads, a write through node 1, whose
// --gateways never named node 4, is forwarded to node 4's gateway learned
// from the configuration (GW_BUG_PEERS_STATIC: 503 no_leader instead).
func TestMemberLearnerLeads(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	if r := Put(c.Nodes[0], "before", "v0", nil); r.Status != 200 {
		t.Fatalf("put before: %s", r)
	}
	n4, body := joinNode(t, c, 4, false)
	via := c.Followers(leader)[0]
	r := addMember(via, body, 15*time.Second)
	if r.Status != 201 || !strings.Contains(string(r.Body), `"role":"learner"`) {
		t.Fatalf("adding node 4 as a learner through node %d: %s", via.ID, r)
	}
	var got Reply
	if !waitFor(15*time.Second, func() bool { got = Get(n4, "before", ""); return got.Status == 200 }) ||
		string(got.Body) != "v0" {
		t.Fatalf("a linearizable read through learner 4: %s", got)
	}
	time.Sleep(500 * time.Millisecond) // a learner added without promote stays one
	if role := memberRoleIn(c, leader, 4); role != "learner" {
		t.Fatalf("node 4 is %q before its promotion, want learner", role)
	}
	r = promoteRetrying(via, 4, 15*time.Second)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"role":"voter"`) {
		t.Fatalf("promoting node 4: %s; members then: %s", r, do("GET", via.URL()+"/v1/members", nil, nil).Body)
	}
	l := listMembers(t, c.Nodes[1])
	for _, m := range l.Members {
		if m.ID == 4 && (m.URL == nil || *m.URL != n4.URL() || m.Role != "voter") {
			t.Errorf("node 4 in GET /v1/members: %+v, want voter at %s", m, n4.URL())
		}
	}
	t.Logf("learner 4 read %q, then was promoted: %s", got.Body, r.Body)

	// stop whoever leads until node 4 wins an election (about 1 in 3 each round)
	all := append(append([]*Node{}, c.Nodes...), n4)
	for round := 0; round < 20; round++ {
		l := leaderAmong(c, 10*time.Second, all...)
		if l == nil {
			t.Fatal("no leader among the four")
		}
		if l == n4 {
			break
		}
		stopNode(c, l, syscall.SIGSTOP)
		leaderAmong(c, 10*time.Second, others(all, l)...)
		stopNode(c, l, syscall.SIGCONT)
	}
	if l := leaderAmong(c, 10*time.Second, all...); l != n4 {
		t.Skipf("node 4 did not win an election in 20 rounds (node %d leads)", l.ID)
	}
	var w Reply
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if w = Put(c.Nodes[0], "after", "v1", nil); w.Status == 200 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if w.Status != 200 || w.Header.Get("X-Raft-Leader") != "4" {
		t.Fatalf("a write through node 1 (its --gateways lack node 4) while node 4 leads: %s", w)
	}
	if g := Get(n4, "after", ""); g.Status != 200 || string(g.Body) != "v1" {
		t.Fatalf("reading it back through node 4: %s", g)
	}
	t.Logf("node 4 leads; a write through node 1 was forwarded to its learned gateway")
}

// promoteRetrying is POST /v1/members/{id}/promote through n, sent again while the answer
// says to retry: 409 not_caught_up, 503, and 409 change_in_progress (the leader's own BIND of
// the learner's incarnation, or a new leader's first entry, is not committed yet).
func promoteRetrying(n *Node, id int, limit time.Duration) Reply {
	deadline := time.Now().Add(limit)
	for {
		r := postJSON(fmt.Sprintf("%s/v1/members/%d/promote", n.URL(), id), "")
		code := jsonCode(r)
		retriable := r.Status == 503 ||
			r.Status == 409 && (code == "not_caught_up" || code == "change_in_progress")
		if !retriable || time.Now().After(deadline) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// others is nodes without n.
func others(nodes []*Node, n *Node) []*Node {
	var o []*Node
	for _, m := range nodes {
		if m != n {
			o = append(o, m)
		}
	}
	return o
}

// memberLive is whether l shows member id live ("" absent, "?" no live field).
func memberLive(l memberList, id int) string {
	for _, m := range l.Members {
		if m.ID == uint64(id) {
			if m.Live == nil {
				return "?"
			}
			return fmt.Sprint(*m.Live)
		}
	}
	return ""
}

// TestMemberRemoveWouldLoseQuorum: with one follower stopped (SIGSTOP),
// removing the other, live, follower would leave the leader and the stopped
// node: a configuration of 2 voters that needs both, of which the leader
// hears 1. It is refused with 409 would_lose_quorum and nothing changes
// (GW_BUG_MEMBER_QUORUM_COUNTS_ALL: it is proposed). With ?force=true it is
// proposed but cannot commit (504 within its timeout), and commits once the
// stopped node runs again.
func TestMemberRemoveWouldLoseQuorum(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	fs := c.Followers(leader)
	stopped, live := fs[0], fs[1]
	stopNode(c, stopped, syscall.SIGSTOP)
	defer stopNode(c, stopped, syscall.SIGCONT)
	deadline := time.Now().Add(5 * time.Second) // the leader stops hearing it: an election timeout
	for memberLive(listMembers(t, leader), stopped.ID) != "false" {
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/members still shows the stopped node %d live: %+v", stopped.ID, listMembers(t, leader))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := memberLive(listMembers(t, leader), live.ID); got != "true" {
		t.Fatalf("the running follower %d: live %s, want true", live.ID, got)
	}
	for _, via := range []*Node{leader, live} { // answered by the leader, also through a follower
		r := do("DELETE", fmt.Sprintf("%s/v1/members/%d", via.URL(), live.ID), nil, nil)
		if r.Status != 409 || jsonCode(r) != "would_lose_quorum" {
			t.Fatalf("removing the live follower %d through node %d while node %d is stopped: %s, want 409 would_lose_quorum",
				live.ID, via.ID, stopped.ID, r)
		}
	}
	if got := memberLive(listMembers(t, leader), live.ID); got != "true" {
		t.Fatalf("after the refusal, node %d: live %q, want still a live member", live.ID, got)
	}
	t.Logf("node %d stopped: removing node %d is 409 would_lose_quorum", stopped.ID, live.ID)

	r := do("DELETE", fmt.Sprintf("%s/v1/members/%d?force=true&timeout=1500", leader.URL(), live.ID), nil, nil)
	if r.Status != 504 {
		t.Fatalf("the forced removal with only the leader of the new configuration running: %s, want 504", r)
	}
	stopNode(c, stopped, syscall.SIGCONT)
	deadline = time.Now().Add(10 * time.Second)
	for {
		l := c.Leader(10 * time.Second)
		if l.ID != live.ID && memberLive(listMembers(t, l), live.ID) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forced removal of node %d did not commit once node %d ran again", live.ID, stopped.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("?force=true: proposed, 504 while it could not commit, committed once node %d ran again", stopped.ID)
}
