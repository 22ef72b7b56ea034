// hostile_http_test.go - the HTTP inputs of docs/testing.md: each gets a
// clear status or a closed connection; no process crashes; memory stays bounded.
package cluster

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// raw sends bytes on a fresh connection and returns the status of the first
// response line (0 when the server closed the connection without answering).
func raw(t *testing.T, n *Node, payload string, readWait time.Duration) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.HTTPPort), 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(readWait))
	if _, err := conn.Write([]byte(payload)); err != nil {
		return 0
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	return -1
}

type hostileCase struct {
	name    string
	payload string
	want    []int // acceptable statuses; 0 means "connection closed without answer"
}

func hostileCases() []hostileCase {
	long := strings.Repeat("a", 1<<20)
	var many strings.Builder
	for i := 0; i < 101; i++ {
		fmt.Fprintf(&many, "X-H%d: v\r\n", i)
	}
	return []hostileCase{
		{"body over the limit, answered before the body", "PUT /v1/kv/big HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n", []int{413}},
		{"Content-Length with Transfer-Encoding", "PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", []int{400, 0}},
		{"negative Content-Length", "PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", []int{400, 413, 0}},
		{"overflowing Content-Length", "PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", []int{400, 413, 0}},
		{"chunk size FFFFFFFFFFFFFFFF", "PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFF\r\nabc\r\n", []int{400, 413, 0}},
		{"101 headers", "GET /v1/kv/a HTTP/1.1\r\nHost: x\r\n" + many.String() + "\r\n", []int{431, 400, 0}},
		{"a 64 KiB header", "GET /v1/kv/a HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 64<<10) + "\r\n\r\n", []int{431, 400, 0}},
		{"a 1 MiB URL", "GET /v1/kv/" + long + " HTTP/1.1\r\nHost: x\r\n\r\n", []int{414, 400, 0}},
		{"empty key", "GET /v1/kv/ HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"key over the limit", "GET /v1/kv/" + strings.Repeat("k", 512) + " HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"bad escape %zz", "GET /v1/kv/a%zz HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"truncated escape", "GET /v1/kv/a%4 HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"key with %00", "PUT /v1/kv/a%00b HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", []int{200, 400}},
		{"key with ../", "PUT /v1/kv/../etc HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", []int{200, 400, 404}},
		{"invalid UTF-8 key", "PUT /v1/kv/%ff%fe HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", []int{200, 400}},
		{"method not supported", "POST /v1/kv/a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", []int{405}},
		{"unknown path", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", []int{404}},
		{"bad limit", "GET /v1/kv?limit=-1 HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"bad timeout", "GET /v1/kv/a?timeout=abc HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"bad consistency", "GET /v1/kv/a?consistency=maybe HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"bad If-Match", "PUT /v1/kv/a HTTP/1.1\r\nHost: x\r\nIf-Match: nonsense\r\nContent-Length: 1\r\n\r\nx", []int{400}},
		{"garbage request line", "\x00\x01\x02 garbage\r\n\r\n", []int{400, 0}},
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestHostileHTTPInputs(t *testing.T) {
	c := NewCluster(t, 3)
	n := c.Nodes[0]
	pid := n.proc("gatewayd").cmd.Process.Pid
	rssBefore := rssKiB(pid)
	for round := 0; round < 3; round++ {
		for _, hc := range hostileCases() {
			got := raw(t, n, hc.payload, 5*time.Second)
			if !contains(hc.want, got) {
				t.Errorf("%s: got %d, want one of %v", hc.name, got, hc.want)
			} else if round == 0 {
				t.Logf("%s: %d", hc.name, got)
			}
		}
	}
	if r := do("POST", kvURL(n, "a", ""), []byte("x"), nil); r.Status != 405 || r.Header.Get("Allow") == "" {
		t.Errorf("POST on a key: %s, Allow=%q; want 405 with Allow", r, r.Header.Get("Allow"))
	}
	if r := Put(n, "big", strings.Repeat("v", (1<<20)+1), nil); r.Status != 413 {
		t.Errorf("value one byte over 1 MiB: %s, want 413", r)
	}
	checkIdleAndSlowClients(t, c, n)
	checkDisconnectMidWrite(t, c, n)
	rssAfter := rssKiB(pid)
	t.Logf("gatewayd RSS: %d KiB before, %d KiB after 3 rounds of hostile input", rssBefore, rssAfter)
	if rssAfter > rssBefore+64*1024 {
		t.Errorf("gatewayd RSS grew by %d KiB", rssAfter-rssBefore)
	}
	if _, err := Put(n, "still-works", "yes", nil).Write(); err != nil {
		t.Errorf("normal write after hostile input: %v", err)
	}
	c.CheckAlive()
}

// 1,000 idle connections and slowloris clients must not stop normal service.
func checkIdleAndSlowClients(t *testing.T, c *Cluster, n *Node) {
	var conns []net.Conn
	defer func() {
		for _, cn := range conns {
			cn.Close()
		}
	}()
	for i := 0; i < 1000; i++ {
		cn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.HTTPPort), time.Second)
		if err != nil {
			break // the server may refuse past its connection limit: that is a clear answer
		}
		if i%10 == 0 {
			_, _ = cn.Write([]byte("GET /v1/kv/a HTTP/1.1\r\nHost: x\r\nX-Slow: ")) // slowloris: never finishes
		}
		conns = append(conns, cn)
	}
	start := time.Now()
	if r := Get(n, "still-works-check", "consistency=stale"); r.Err != nil || (r.Status != 200 && r.Status != 404) {
		t.Errorf("a normal request with %d idle and slow connections open: %s", len(conns), r)
	}
	t.Logf("%d idle/slowloris connections open: a normal request still answered in %v", len(conns), time.Since(start).Round(time.Millisecond))
}

// A client that disconnects mid-write: the server carries on.
func checkDisconnectMidWrite(t *testing.T, c *Cluster, n *Node) {
	for i := 0; i < 20; i++ {
		cn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", n.HTTPPort))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(cn, "PUT /v1/kv/dropped-%d HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345", i)
		cn.Close()
		cn2, _ := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", n.HTTPPort))
		if cn2 != nil {
			fmt.Fprintf(cn2, "PUT /v1/kv/dropped-full-%d HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", i)
			cn2.Close()
		}
	}
	time.Sleep(200 * time.Millisecond)
	t.Log("40 clients disconnected mid-request or before the answer; the gateway carries on")
}
