// member_remove_test.go - DELETE /v1/members/{id} under writes: a 5-node
// cluster loses a node that is cut off (stopped), then its leader (which
// hands leadership over first), and goes on as 3 voters; bad input gets its
// clear error. Histories are checked as everywhere.
package cluster

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// removeMember sends DELETE /v1/members/{id} through n until it is not a
// retriable refusal (409 change_in_progress, 503), within limit.
func removeMember(t *testing.T, n *Node, id int, limit time.Duration) Reply {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		r := do("DELETE", fmt.Sprintf("%s/v1/members/%d", n.URL(), id), nil, nil)
		retriable := r.Err == nil && (r.Status == 503 || r.Status == 409 &&
			jsonCode(r) == "change_in_progress")
		if !retriable || time.Now().After(deadline) {
			return r
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func jsonCode(r Reply) string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

type memberList struct {
	Leader      uint64        `json:"leader"`
	CommitIndex uint64        `json:"commit_index"`
	LastIndex   uint64        `json:"last_index"`
	Members     []memberEntry `json:"members"`
}

// memberEntry is one member of GET /v1/members.
type memberEntry struct {
	ID          uint64  `json:"id"`
	Role        string  `json:"role"`
	PeerAddress string  `json:"peer_address"`
	URL         *string `json:"url"`
	MatchIndex  uint64  `json:"match_index"`
	CaughtUp    bool    `json:"caught_up"`
	Live        *bool   `json:"live"`
}

// listMembers is GET /v1/members through n (answered by the leader).
func listMembers(t *testing.T, n *Node) memberList {
	t.Helper()
	var l memberList
	r := do("GET", n.URL()+"/v1/members", nil, nil)
	if r.Err != nil || r.Status != 200 {
		t.Fatalf("GET /v1/members through node %d: %s", n.ID, r)
	}
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("GET /v1/members: %v in %s", err, r.Body)
	}
	return l
}

// voters is the set of voter ids in n's /v1/status.
func voters(c *Cluster, n *Node) map[uint64]bool {
	s, err := identityOf(c, n)
	if err != nil {
		return nil
	}
	v := map[uint64]bool{}
	for _, m := range s.Members {
		if m.Role == "voter" {
			v[m.ID] = true
		}
	}
	return v
}

func TestMemberRemoveCutOffNodeAndLeader(t *testing.T) {
	c := NewCluster(t, 5)
	h := NewHistory()
	w := StartWorkload(c, h, 4)
	time.Sleep(time.Second)
	leader := c.Leader(10 * time.Second)
	cutOff := c.Followers(leader)[0]
	via := c.Followers(leader)[1]

	for _, bad := range []struct {
		path string
		code int
		err  string
	}{{"/v1/members/99", 404, "member_not_found"}, {"/v1/members/abc", 400, "invalid_argument"},
		{"/v1/members/0", 400, "invalid_argument"}, {"/v1/members/70000", 400, "invalid_argument"}} {
		r := do("DELETE", via.URL()+bad.path, nil, nil)
		if r.Status != bad.code || jsonCode(r) != bad.err {
			t.Errorf("DELETE %s: %s, want %d %s", bad.path, r, bad.code, bad.err)
		}
	}

	l := listMembers(t, via)
	if len(l.Members) != 5 || l.Leader != uint64(leader.ID) {
		t.Fatalf("GET /v1/members through follower %d: %+v", via.ID, l)
	}
	for _, m := range l.Members {
		if m.Role != "voter" || m.MatchIndex == 0 || m.URL == nil ||
			m.PeerAddress != fmt.Sprintf("%s:%d", c.Nodes[m.ID-1].Host, c.Nodes[m.ID-1].RaftPort) {
			t.Errorf("member %+v", m)
		}
	}
	stopNode(c, cutOff, syscall.SIGSTOP)
	if r := removeMember(t, via, cutOff.ID, 10*time.Second); r.Status != 200 {
		t.Fatalf("removing cut-off node %d through node %d: %s", cutOff.ID, via.ID, r)
	}
	t.Logf("node %d (stopped) removed through follower %d", cutOff.ID, via.ID)
	if r := removeMember(t, via, leader.ID, 15*time.Second); r.Status != 200 {
		t.Fatalf("removing leader %d: %s", leader.ID, r)
	}
	var next *Node
	deadline := time.Now().Add(10 * time.Second)
	for next == nil && time.Now().Before(deadline) {
		for _, n := range c.Nodes {
			if n == leader || n == cutOff {
				continue
			}
			if s, err := identityOf(c, n); err == nil && s.Role == "leader" {
				next = n
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if next == nil {
		t.Fatal("no leader among the remaining three")
	}
	v := voters(c, next)
	if len(v) != 3 || v[uint64(leader.ID)] || v[uint64(cutOff.ID)] {
		t.Fatalf("voters after removing %d and %d: %v", cutOff.ID, leader.ID, v)
	}
	t.Logf("leader %d removed: it handed over to node %d; voters now %v", leader.ID, next.ID, v)
	l = listMembers(t, via)
	if len(l.Members) != 3 || l.Leader != uint64(next.ID) {
		t.Errorf("GET /v1/members after the removals: %+v", l)
	}
	for _, m := range l.Members {
		if !m.CaughtUp && m.MatchIndex+100 < l.CommitIndex {
			t.Errorf("member %d far behind: match %d, commit %d", m.ID, m.MatchIndex, l.CommitIndex)
		}
	}
	time.Sleep(time.Second) // writes go on with 3 voters
	w.Stop()
	stopNode(c, cutOff, syscall.SIGCONT)
	t.Logf("workload: %d unique writes acknowledged, %d refused or unknown", w.Acked.Load(), w.Unknown.Load())
	h.Check(t)
	for _, n := range c.Nodes {
		if v[uint64(n.ID)] {
			h.CheckAcked(t, n)
		}
	}
}
