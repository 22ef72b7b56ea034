// harness_test.go - real raftkv clusters for tests: every node is three real
// processes (raftd, storaged, gatewayd) on loopback, each role started,
// killed (SIGKILL), paused (SIGSTOP) and restarted on its own.
package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Roles of a node, in start order.
var roles = []string{"storaged", "raftd", "gatewayd"}

// portNext is where allocPorts tries the next block: each cluster gets ports
// of its own, away from `make run` (4001-4003, 7001-7003), and from sockets in
// TIME_WAIT of the clusters before it in this process.
var (
	portMu   sync.Mutex
	portNext = portFirst + (os.Getpid()%200)*50
)

const (
	portFirst = 20000
	portLast  = 30000 // below the kernel's ephemeral range (32768-60999)
)

// allocPorts returns base: the ports base+1 .. base+3n (HTTP, raft and Consul)
// are free now. Each test process starts at its own place (its pid), but
// other test processes, benches and clusters started by hand on this machine
// take ports too, so every port of the block is tried with a listener first
// and a block with one in use is skipped.
func allocPorts(n int) int {
	portMu.Lock()
	defer portMu.Unlock()
	size := 3*n + 4 // HTTP, raft and Consul ports, and a gap
	for tries := 0; tries < (portLast-portFirst)/size; tries++ {
		if portNext+size > portLast {
			portNext = portFirst
		}
		base := portNext
		portNext += size
		busy := firstBusyPort(base+1, base+3*n)
		if busy == 0 {
			return base
		}
		portNext = busy + 1
	}
	panic("allocPorts: no free block of ports in 20000-30000")
}

// firstBusyPort is the first port in [from, to] some process listens on
// (on any address), else 0.
func firstBusyPort(from, to int) int {
	for p := from; p <= to; p++ {
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			return p
		}
		l.Close()
	}
	return 0
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

type Node struct {
	ID       int
	Host     string // address its raft and HTTP ports bind to
	Netns    string // network namespace its processes run in ("" = the test's)
	HTTPPort int
	RaftPort int
	Consul   int // the Consul KV API's port (ClusterOpts.ConsulAPI), else 0
	Dir      string
	Scheme   string           // "http" or "https" (ClusterOpts.Scheme)
	Join     bool             // started by JoinNode: raftd --join instead of --peers
	procsMu  sync.Mutex       // procs is written by Start while workloads read it
	procs    map[string]*proc // by role; read and written only through proc and setProc
}

// proc is the process last started for role (nil if none), safe from any goroutine.
func (n *Node) proc(role string) *proc {
	n.procsMu.Lock()
	defer n.procsMu.Unlock()
	return n.procs[role]
}

func (n *Node) setProc(role string, p *proc) {
	n.procsMu.Lock()
	defer n.procsMu.Unlock()
	n.procs[role] = p
}

type Cluster struct {
	t        *testing.T
	Nodes    []*Node
	binDir   string
	dir      string
	peers    string
	gateways string
	joinURLs string // the first nodes' URLs, for raftd --join (JoinNode)
	extra    map[string][]string
	env      map[string][]string // extra environment by role (NAME=value)
	quick    *http.Client        // status and readiness polls
	mu       sync.Mutex
	curve    bool      // raftd peers use CurveZMQ (curve_test.go)
	consul   bool      // gatewayd serves Consul's KV API too (consul_test.go)
	keyDir   string    // <dir>/keys: node<i>/curve.key, curve.pub, peer-keys.txt
	place    Placement // where nodes run (nil: loopback); joiners too (NewJoiner)
}

func (n *Node) URL() string { return fmt.Sprintf("%s://%s:%d", n.Scheme, n.Host, n.HTTPPort) }

// Placement puts node id (1-based) on its own host: the address its ports
// bind to and the network namespace its processes run in (netns_test.go).
type Placement func(id int) (host, netns string)

func binDir(t *testing.T) string {
	d := os.Getenv("RAFTKV_BIN")
	if d == "" {
		d = "../../build"
	}
	abs, err := filepath.Abs(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if _, err := os.Stat(filepath.Join(abs, r)); err != nil {
			t.Fatalf("binary %s not built in %s (run make build): %v", r, abs, err)
		}
	}
	return abs
}

// NewCluster starts n nodes on loopback and waits until every gateway is ready.
func NewCluster(t *testing.T, n int) *Cluster {
	t.Helper()
	return NewClusterPlaced(t, n, nil)
}

// NewClusterPlaced is NewCluster with each node where place puts it (nil: loopback).
func NewClusterPlaced(t *testing.T, n int, place Placement) *Cluster {
	t.Helper()
	return NewClusterOpts(t, n, ClusterOpts{Place: place, Curve: curveFromEnv()})
}

// NewClusterWith is NewClusterPlaced with extra flags per role (e.g. "storaged").
func NewClusterWith(t *testing.T, n int, place Placement, extra map[string][]string) *Cluster {
	t.Helper()
	return NewClusterOpts(t, n, ClusterOpts{Place: place, Extra: extra, Curve: curveFromEnv()})
}

// ClusterOpts: where nodes run, and what secure clusters need (security_test.go).
type ClusterOpts struct {
	Place  Placement           // nil: loopback
	Scheme string              // "" or "http"; "https" when gatewayd gets --tls-cert
	Extra  map[string][]string // extra flags by role, for every node
	Env    map[string][]string // extra environment by role (snapshot_faults_test.go: libfiu)
	Quick  *http.Client        // the harness's status/readiness client (nil: plain, 2 s)
	Curve  bool                // raftd peers use CurveZMQ (curve_test.go)
	// ConsulAPI: each gatewayd also serves Consul's KV API (--consul-listen) on Node.Consul
	ConsulAPI bool
	// Prepare runs for each node before its processes start (backup_test.go seeds data dirs)
	Prepare func(c *Cluster, n *Node)
}

// NewClusterCurve is NewCluster with Curve on for raftd's peers, whatever
// RAFTKV_CLUSTER_CURVE says.
func NewClusterCurve(t *testing.T, n int) *Cluster {
	t.Helper()
	return NewClusterOpts(t, n, ClusterOpts{Curve: true})
}

// NewClusterOpts starts n nodes as o says and waits until every gateway is ready.
func NewClusterOpts(t *testing.T, n int, o ClusterOpts) *Cluster {
	t.Helper()
	place := o.Place
	c := &Cluster{t: t, binDir: binDir(t), extra: map[string][]string{}, env: o.Env, quick: quick,
		curve: o.Curve, consul: o.ConsulAPI, place: place}
	for r, a := range o.Extra {
		c.extra[r] = a
	}
	if o.Quick != nil {
		c.quick = o.Quick
	}
	if o.Scheme == "" {
		o.Scheme = "http"
	}
	c.dir = t.TempDir()
	base := allocPorts(n)
	var peers, gws, urls []string
	for i := 1; i <= n; i++ {
		node := &Node{ID: i, Host: "127.0.0.1", HTTPPort: base + i, RaftPort: base + n + i,
			Dir: filepath.Join(c.dir, fmt.Sprintf("node%d", i)), Scheme: o.Scheme,
			procs: map[string]*proc{}}
		if place != nil {
			node.Host, node.Netns = place(i)
		}
		if o.ConsulAPI {
			node.Consul = base + 2*n + i
		}
		c.Nodes = append(c.Nodes, node)
		peers = append(peers, fmt.Sprintf("%d=%s:%d", i, node.Host, node.RaftPort))
		gws = append(gws, fmt.Sprintf("%d=%s", i, node.URL()))
		urls = append(urls, node.URL())
	}
	c.peers = strings.Join(peers, ",")
	c.gateways = strings.Join(gws, ",")
	c.joinURLs = strings.Join(urls, ",")
	t.Cleanup(c.Shutdown)
	c.curvePrepare()
	for _, node := range c.Nodes {
		if o.Prepare != nil {
			o.Prepare(c, node)
		}
		for _, r := range roles {
			c.Start(node, r)
		}
	}
	c.WaitReady(20 * time.Second)
	return c
}

func (c *Cluster) args(n *Node, role string) []string {
	common := []string{"--node-id", fmt.Sprint(n.ID), "--data-dir", n.Dir,
		"--sock-dir", filepath.Join(n.Dir, "sock"), "--log-level", "info"}
	switch role {
	case "raftd":
		if n.Join {
			common = append(common, "--join", c.joinURLs, "--url", n.URL(),
				"--advertise", fmt.Sprintf("%s:%d", n.Host, n.RaftPort))
		} else {
			common = append(common, "--peers", c.peers)
		}
		common = append(common, "--listen", fmt.Sprintf("tcp://%s:%d", n.Host, n.RaftPort),
			"--election-timeout-ms", "500", "--heartbeat-ms", "50")
		common = append(common, c.curveArgs(n)...)
	case "gatewayd":
		gws := c.gateways
		if n.Join {
			gws += fmt.Sprintf(",%d=%s", n.ID, n.URL())
		}
		// GETs read the node's LMDB in this process (as tools/cluster.sh runs them)
		common = append(common, "--listen", fmt.Sprintf("%s:%d", n.Host, n.HTTPPort),
			"--gateways", gws, "--local-reads")
		if c.consul {
			common = append(common, "--consul-listen", fmt.Sprintf("%s:%d", n.Host, n.Consul))
		}
		if !strings.HasPrefix(n.Host, "127.") {
			// plaintext on a non-loopback address (netns tests): gatewayd refuses it without
			common = append(common, "--insecure")
		}
	}
	return append(common, c.extra[role]...)
}

// Start launches one role of one node; its output goes to <dir>/<role>.log.
func (c *Cluster) Start(n *Node, role string) {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := n.proc(role); p != nil && !p.exited() {
		c.t.Fatalf("node %d %s already running", n.ID, role)
	}
	if err := os.MkdirAll(n.Dir, 0o755); err != nil {
		c.t.Fatal(err)
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, role+".log"),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	path, args := filepath.Join(c.binDir, role), c.args(n, role)
	if n.Netns != "" {
		// ip netns exec execs the binary itself (no fork), so signals reach it.
		args = append([]string{"netns", "exec", n.Netns, path}, args...)
		path = "ip"
	}
	cmd := exec.Command(path, args...)
	if len(c.env[role]) > 0 {
		cmd.Env = append(os.Environ(), c.env[role]...)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("start node %d %s: %v", n.ID, role, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), log: logf}
	go func() { _ = cmd.Wait(); close(p.done) }()
	n.setProc(role, p)
}

// Running says whether role of n runs; safe beside Start (a joiner starting
// while a workload picks nodes).
func (c *Cluster) Running(n *Node, role string) bool {
	p := n.proc(role)
	return p != nil && !p.exited()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to a role; SIGKILL also waits for the process to be gone.
func (c *Cluster) Signal(n *Node, role string, sig syscall.Signal) {
	c.t.Helper()
	p := n.proc(role)
	if p == nil || p.exited() {
		c.t.Fatalf("node %d %s is not running", n.ID, role)
	}
	_ = p.cmd.Process.Signal(sig)
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			c.t.Fatalf("node %d %s did not exit after %v", n.ID, role, sig)
		}
	}
}

func (c *Cluster) Kill(n *Node, role string) { c.Signal(n, role, syscall.SIGKILL) }

func (c *Cluster) KillNode(n *Node) {
	for _, r := range roles {
		if p := n.proc(r); p != nil && !p.exited() {
			c.Kill(n, r)
		}
	}
}

// NewJoiner adds node len(Nodes)+1 with its own ports and an empty
// directory, where the cluster's Placement puts it (loopback without one),
// to be started with raftd --join against the first nodes (StartNode, or
// Start role by role). With Curve it gets its own key pair, which no
// allow-list names: the others learn its public key from the configuration
// (raftd --join sends it). It is not started here.
func (c *Cluster) NewJoiner() *Node {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	base := allocPorts(1)
	id := len(c.Nodes) + 1
	n := &Node{ID: id, Host: "127.0.0.1", HTTPPort: base + 1, RaftPort: base + 2,
		Dir: filepath.Join(c.dir, fmt.Sprintf("node%d", id)), Scheme: c.Nodes[0].Scheme,
		Join: true, procs: map[string]*proc{}}
	if c.place != nil {
		n.Host, n.Netns = c.place(id)
	}
	if c.consul {
		n.Consul = base + 3
	}
	c.curveKeygen(id)
	c.Nodes = append(c.Nodes, n)
	return n
}

// NodeList is a snapshot of Nodes, safe while NewJoiner adds to it.
func (c *Cluster) NodeList() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node(nil), c.Nodes...)
}

func (c *Cluster) StartNode(n *Node) {
	for _, r := range roles {
		c.Start(n, r)
	}
}

// CheckAlive fails the test if any process died on its own.
func (c *Cluster) CheckAlive() {
	c.t.Helper()
	for _, n := range c.Nodes {
		for _, r := range roles {
			if p := n.proc(r); p != nil && p.exited() {
				c.t.Errorf("node %d %s exited unexpectedly: %v; log tail:\n%s",
					n.ID, r, p.cmd.ProcessState, c.LogTail(n, r, 30))
			}
		}
	}
}

func (c *Cluster) LogTail(n *Node, role string, lines int) string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, role+".log"))
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Shutdown kills everything (resuming paused processes first) and, when the
// test failed, keeps the logs by printing their tails.
func (c *Cluster) Shutdown() {
	for _, n := range c.Nodes {
		for _, r := range roles {
			p := n.proc(r)
			if p == nil || p.exited() {
				continue
			}
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
			p.log.Close()
		}
	}
	if c.t.Failed() {
		for _, n := range c.Nodes {
			for _, r := range roles {
				c.t.Logf("--- node %d %s log tail:\n%s", n.ID, r, c.LogTail(n, r, 40))
			}
		}
	}
}

type Status struct {
	ID           uint64 `json:"id"`
	Role         string `json:"role"`
	Term         uint64 `json:"term"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	Leader       *struct {
		ID  uint64 `json:"id"`
		URL string `json:"url"`
	} `json:"leader"`
}

var quick = &http.Client{Timeout: 2 * time.Second}

func (c *Cluster) Status(n *Node) (*Status, error) {
	resp, err := c.quick.Get(n.URL() + "/v1/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var s Status
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// WaitReady waits until every running gateway answers /readyz with 200.
func (c *Cluster) WaitReady(limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for _, n := range c.Nodes {
		if p := n.proc("gatewayd"); p == nil || p.exited() {
			continue
		}
		for {
			resp, err := c.quick.Get(n.URL() + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				c.CheckAlive()
				c.t.Fatalf("node %d not ready within %v (last error %v)", n.ID, limit, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// Leader waits until the running nodes agree on one leader and returns it.
func (c *Cluster) Leader(limit time.Duration) *Node {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, n := range c.Nodes {
			if p := n.proc("gatewayd"); p == nil || p.exited() {
				continue
			}
			s, err := c.Status(n)
			if err == nil && s.Role == "leader" {
				return n
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.CheckAlive()
	c.t.Fatalf("no leader within %v", limit)
	return nil
}

func (c *Cluster) Followers(leader *Node) []*Node {
	var out []*Node
	for _, n := range c.Nodes {
		if n != leader {
			out = append(out, n)
		}
	}
	return out
}
