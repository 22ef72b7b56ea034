// raft_stats_test.go - GET /raft/stats, the seed project's status route:
// every node names the same leader and term, one node says "Leader", and
// the members carry their raft addresses.
package cluster

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

type raftStats struct {
	NodeID string `json:"node_id"`
	State  string `json:"state"`
	Term   uint64 `json:"term"`
	Leader *struct {
		NodeID      string `json:"node_id"`
		RaftAddress string `json:"raft_address"`
	} `json:"leader"`
	Members []struct {
		NodeID      string `json:"node_id"`
		RaftAddress string `json:"raft_address"`
		Suffrage    string `json:"suffrage"`
	} `json:"members"`
}

func TestRaftStatsSeedRoute(t *testing.T) {
	c := NewCluster(t, 3)
	leader := c.Leader(10 * time.Second)
	time.Sleep(300 * time.Millisecond)
	leaders := 0
	for _, n := range c.Nodes {
		r := do("GET", n.URL()+"/raft/stats", nil, nil)
		if r.Err != nil || r.Status != 200 {
			t.Fatalf("GET /raft/stats on node %d: %s", n.ID, r)
		}
		var s raftStats
		if err := json.Unmarshal(r.Body, &s); err != nil {
			t.Fatalf("node %d: %v in %s", n.ID, err, r.Body)
		}
		if s.NodeID != fmt.Sprintf("node_%d", n.ID) {
			t.Errorf("node %d calls itself %q", n.ID, s.NodeID)
		}
		if s.State == "Leader" {
			leaders++
		} else if s.State != "Follower" {
			t.Errorf("node %d: state %q", n.ID, s.State)
		}
		want := fmt.Sprintf("node_%d", leader.ID)
		if s.Leader == nil || s.Leader.NodeID != want ||
			s.Leader.RaftAddress != fmt.Sprintf("%s:%d", leader.Host, leader.RaftPort) {
			t.Errorf("node %d: leader %+v, want %s at port %d", n.ID, s.Leader, want, leader.RaftPort)
		}
		if len(s.Members) != 3 {
			t.Fatalf("node %d: members %+v", n.ID, s.Members)
		}
		for i, m := range s.Members {
			p := c.Nodes[i]
			if m.NodeID != fmt.Sprintf("node_%d", p.ID) || m.Suffrage != "Voter" ||
				m.RaftAddress != fmt.Sprintf("%s:%d", p.Host, p.RaftPort) {
				t.Errorf("node %d: member %d is %+v", n.ID, i, m)
			}
		}
	}
	if leaders != 1 {
		t.Errorf("%d nodes say Leader", leaders)
	}
	t.Logf("GET /raft/stats on 3 nodes: one Leader (node_%d), the same leader everywhere, 3 voters with their raft addresses", leader.ID)
}
