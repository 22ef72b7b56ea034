// netns_test.go - separate hosts for partition tests: one network namespace
// per node, each with a veth to a bridge that lives in its own namespace, and
// a veth from the test's (root) namespace to that bridge so clients reach
// every gateway. Addresses come from 10.213.<x>.0/24 (node i is .i, the test
// host is .254); no namespace gets any other route, so traffic stays between
// these hosts. Partitions are nftables drop rules inside the node namespaces
// (a silent partition: packets vanish, nothing is refused).
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Netns is the set of namespaces of one test run.
type Netns struct {
	t      *testing.T
	prefix string // rkv-<pid>-<seq>
	subnet int    // x of 10.213.x.0/24
	nodes  int
	hostIf string // the test host's veth end, in the root namespace
}

const (
	netnsSubnetFirst = 1
	netnsSubnetCount = 250
	netnsCmdTimeout  = 10 * time.Second
)

var (
	netnsMu  sync.Mutex
	netnsSeq int
)

// netnsRun runs a command bounded in time; the error carries its output.
func netnsRun(stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), netnsCmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err,
			strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// netnsUsable says why namespaces cannot be used here, or "" when they can.
func netnsUsable() string {
	if os.Geteuid() != 0 {
		return "not root (network namespaces and nftables need CAP_NET_ADMIN)"
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return tool + " not installed (Debian: iproute2, nftables; see make deps)"
		}
	}
	probe := fmt.Sprintf("rkv-%d-probe", os.Getpid())
	if _, err := netnsRun("", "ip", "netns", "add", probe); err != nil {
		return "cannot create a network namespace: " + err.Error()
	}
	defer netnsRun("", "ip", "netns", "del", probe)
	if _, err := netnsRun("", "ip", "netns", "exec", probe, "nft", "list", "tables"); err != nil {
		return "nft does not work inside a namespace: " + err.Error()
	}
	return ""
}

// netnsDeleteStale removes rkv-<pid>-* namespaces whose test process is gone
// (a run that crashed before its cleanup); live runs' namespaces stay.
func netnsDeleteStale(t *testing.T) {
	out, err := netnsRun("", "ip", "netns", "list")
	if err != nil {
		t.Logf("netns: cannot list namespaces: %v", err)
		return
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], "rkv-") {
			continue
		}
		parts := strings.SplitN(f[0], "-", 3)
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue
		}
		if _, err := netnsRun("", "ip", "netns", "del", f[0]); err == nil {
			t.Logf("netns: deleted stale namespace %s of a finished run (pid %d)", f[0], pid)
		}
	}
}

// netnsPickSubnet finds a 10.213.x.0/24 with no route in the root namespace,
// so two test runs at once (or anything else on the host) never share one.
func netnsPickSubnet(seq int) (int, error) {
	start := (os.Getpid()*7 + seq*31) % netnsSubnetCount
	for i := 0; i < netnsSubnetCount; i++ {
		x := netnsSubnetFirst + (start+i)%netnsSubnetCount
		out, err := netnsRun("", "ip", "-4", "route", "show", fmt.Sprintf("10.213.%d.0/24", x))
		if err != nil {
			return 0, err
		}
		if strings.TrimSpace(out) == "" {
			return x, nil
		}
	}
	return 0, fmt.Errorf("every 10.213.x.0/24 is in use")
}

// NewNetns builds namespaces for n nodes, or skips the test (saying why) when
// this machine cannot. Everything is deleted on cleanup, pass or fail.
func NewNetns(t *testing.T, n int) *Netns {
	t.Helper()
	if why := netnsUsable(); why != "" {
		t.Skipf("SKIP partition test: %s", why)
	}
	netnsDeleteStale(t)
	netnsMu.Lock()
	netnsSeq++
	seq := netnsSeq
	netnsMu.Unlock()
	x, err := netnsPickSubnet(seq)
	if err != nil {
		t.Fatal(err)
	}
	nn := &Netns{t: t, prefix: fmt.Sprintf("rkv-%d-%d", os.Getpid(), seq), subnet: x,
		nodes: n, hostIf: fmt.Sprintf("rkv%dh%d", os.Getpid(), seq)}
	t.Cleanup(nn.teardown)
	for _, cmd := range nn.setupCmds() {
		if _, err := netnsRun("", cmd...); err != nil {
			t.Fatalf("netns setup: %v", err)
		}
	}
	t.Logf("netns: %d node namespaces %s-n1..n%d on 10.213.%d.0/24, bridge in %s, test host %s",
		n, nn.prefix, n, x, nn.bridgeNs(), nn.HostAddr())
	return nn
}

func (nn *Netns) bridgeNs() string   { return nn.prefix + "-br" }
func (nn *Netns) Name(id int) string { return fmt.Sprintf("%s-n%d", nn.prefix, id) }
func (nn *Netns) Addr(id int) string { return fmt.Sprintf("10.213.%d.%d", nn.subnet, id) }
func (nn *Netns) HostAddr() string   { return fmt.Sprintf("10.213.%d.254", nn.subnet) }

// Place is the harness's Placement: node id binds its address in its namespace.
func (nn *Netns) Place(id int) (string, string) { return nn.Addr(id), nn.Name(id) }

// setupCmds lists the commands that build the topology, in order.
func (nn *Netns) setupCmds() [][]string {
	br := nn.bridgeNs()
	cmds := [][]string{
		{"ip", "netns", "add", br},
		{"ip", "-n", br, "link", "set", "lo", "up"},
		{"ip", "-n", br, "link", "add", "br0", "type", "bridge"},
		{"ip", "-n", br, "link", "set", "br0", "up"},
		// The root end is created here and its peer moved at once, so the
		// root namespace only ever holds one uniquely named interface.
		{"ip", "link", "add", nn.hostIf, "type", "veth", "peer", "name", "up0", "netns", br},
		{"ip", "-n", br, "link", "set", "up0", "master", "br0", "up"},
		{"ip", "addr", "add", nn.HostAddr() + "/24", "dev", nn.hostIf},
		{"ip", "link", "set", nn.hostIf, "up"},
	}
	for id := 1; id <= nn.nodes; id++ {
		ns, port := nn.Name(id), fmt.Sprintf("p%d", id)
		cmds = append(cmds,
			[]string{"ip", "netns", "add", ns},
			[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
			[]string{"ip", "-n", br, "link", "add", port, "type", "veth", "peer", "name",
				"eth0", "netns", ns},
			[]string{"ip", "-n", br, "link", "set", port, "master", "br0", "up"},
			[]string{"ip", "-n", ns, "addr", "add", nn.Addr(id) + "/24", "dev", "eth0"},
			[]string{"ip", "-n", ns, "link", "set", "eth0", "up"})
	}
	return cmds
}

// teardown deletes every namespace of this run; deleting the bridge's
// namespace also removes the root end of its veth.
func (nn *Netns) teardown() {
	for id := 1; id <= nn.nodes; id++ {
		if _, err := netnsRun("", "ip", "netns", "del", nn.Name(id)); err != nil {
			nn.t.Logf("netns teardown: %v", err)
		}
	}
	if _, err := netnsRun("", "ip", "netns", "del", nn.bridgeNs()); err != nil {
		nn.t.Logf("netns teardown: %v", err)
	}
	_, _ = netnsRun("", "ip", "link", "del", nn.hostIf) // gone already unless setup failed midway
}

// nftReplace starts an nft script that atomically removes node's table
// inet rkv, whether or not it exists (declaring a table that exists is a
// no-op); nft runs a script as one transaction.
const nftReplace = "table inet rkv {}\ndelete table inet rkv\n"

// Drop makes node id silently drop packets from (in) and/or to (out) the
// given peers, replacing its earlier rules in the same transaction.
func (nn *Netns) Drop(id int, peers []int, in, out bool) {
	nn.t.Helper()
	var addrs []string
	for _, p := range peers {
		addrs = append(addrs, nn.Addr(p))
	}
	set := "{ " + strings.Join(addrs, ", ") + " }"
	rules := nftReplace + "table inet rkv {\n" +
		" chain input { type filter hook input priority -10; policy accept; }\n" +
		" chain output { type filter hook output priority -10; policy accept; }\n}\n"
	if in {
		rules += "add rule inet rkv input ip saddr " + set + " drop\n"
	}
	if out {
		rules += "add rule inet rkv output ip daddr " + set + " drop\n"
	}
	if _, err := netnsRun(rules, "ip", "netns", "exec", nn.Name(id), "nft", "-f", "-"); err != nil {
		nn.t.Fatalf("partition node %d: %v", id, err)
	}
}

// Cut partitions two groups of nodes from each other, in both directions.
func (nn *Netns) Cut(a, b []int) {
	nn.t.Helper()
	for _, id := range a {
		nn.Drop(id, b, true, true)
	}
	for _, id := range b {
		nn.Drop(id, a, true, true)
	}
}

// Heal removes node id's rules (none is fine).
func (nn *Netns) Heal(id int) {
	nn.t.Helper()
	if _, err := netnsRun(nftReplace, "ip", "netns", "exec", nn.Name(id), "nft", "-f",
		"-"); err != nil {
		nn.t.Fatalf("heal node %d: %v", id, err)
	}
}

func (nn *Netns) HealAll() {
	nn.t.Helper()
	for id := 1; id <= nn.nodes; id++ {
		nn.Heal(id)
	}
}
