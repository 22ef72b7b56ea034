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
		first <- do("DELETE", fmt.Sprintf("%s/v1/members/%d?timeout=8000", leader.URL(), fs[0].ID), nil, nil)
	}()
	time.Sleep(200 * time.Millisecond) // the first is proposed before the second is sent
	var second Reply
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		second = do("DELETE", fmt.Sprintf("%s/v1/members/%d?timeout=300", leader.URL(), fs[1].ID), nil, nil)
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
