// security_test.go - tests that try to get in (issue 13, HTTP half): every
// route of services/gatewayd/gw_routes.h without a token, with a wrong one,
// with a role too low and with a key outside the token's prefix; correct
// tokens, including a write through a follower forwarded over TLS; plain
// HTTP sent to the TLS port; client certificates from another CA; a
// certificate reloaded on SIGHUP while an old keep-alive connection goes on.
// The secrets come from tools/certs.sh, as `make certs` makes them.
package cluster

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tokens of the auth file the secure cluster gets.
type secTokens struct {
	admin, write, read string
	appWrite, appRead  string // limited to keys under "app/"
}

// makeSecrets runs tools/certs.sh into dir (NODES=2) and returns the secrets directory.
func makeSecrets(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("../../tools/certs.sh")
	cmd.Env = append(os.Environ(), "BASE_DIR="+dir, "NODES=2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("certs.sh: %v\n%s", err, out)
	}
	return filepath.Join(dir, "secrets")
}

// authFile takes certs.sh's tokens.txt and adds two tokens limited to "app/".
func authFile(t *testing.T, secrets string) (string, secTokens) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(secrets, "tokens.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var tk secTokens
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[1] {
		case "admin":
			tk.admin = f[0]
		case "write":
			tk.write = f[0]
		case "read":
			tk.read = f[0]
		}
	}
	if tk.admin == "" || tk.write == "" || tk.read == "" {
		t.Fatalf("tokens.txt lacks an admin, write or read token:\n%s", b)
	}
	tk.appWrite, tk.appRead = "app-write-token-0123456789", "app-read-token-01234567890"
	extra := fmt.Sprintf("%s write app/\n%s read app/\n", tk.appWrite, tk.appRead)
	path := filepath.Join(secrets, "auth.txt")
	if err := os.WriteFile(path, append(b, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, tk
}

func caPool(t *testing.T, secrets string) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(secrets, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("no certificate in ca.crt")
	}
	return pool
}

// bearer adds a token to every request of a client.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// routeRow is one row of gw_routes.h.
type routeRow struct {
	methods []string
	path    string
	perm    string // OPEN, READ, WRITE, ADMIN
	prefix  bool   // GW_ROUTE_PREFIX: keys under ?prefix=
	allKeys bool   // GW_ROUTE_ALL_KEYS: any key (txn, leases): only a token for every key
}

// routeTable reads gw_routes.h, so a new row is tried without editing this test.
func routeTable(t *testing.T) []routeRow {
	t.Helper()
	b, err := os.ReadFile("../../services/gatewayd/gw_routes.h")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.ReplaceAll(string(b), "\\\n", " ")
	re := regexp.MustCompile(`X\(GW_MS_(\w+),\s*"([^"]+)",\s*\w+,\s*"\w+",\s*GW_PERM_(\w+),\s*([^)]*)\)`)
	var rows []routeRow
	for _, m := range re.FindAllStringSubmatch(src, -1) {
		r := routeRow{path: m[2], perm: m[3], prefix: strings.Contains(m[4], "GW_ROUTE_PREFIX"),
			allKeys: strings.Contains(m[4], "GW_ROUTE_ALL_KEYS")}
		switch m[1] {
		case "GET":
			r.methods = []string{"GET", "HEAD"}
		case "PUT":
			r.methods = []string{"PUT"}
		case "DEL":
			r.methods = []string{"DELETE"}
		case "POST":
			r.methods = []string{"POST"}
		default:
			t.Fatalf("gw_routes.h: unknown method set GW_MS_%s", m[1])
		}
		rows = append(rows, r)
	}
	if len(rows) < 8 {
		t.Fatalf("gw_routes.h: found only %d rows", len(rows))
	}
	return rows
}

// url of a row with its keys under keyPrefix.
func (r routeRow) url(n *Node, keyPrefix string) string {
	p := strings.Replace(r.path, "{key}", keyPrefix+"k", 1)
	if r.prefix {
		p += "?prefix=" + keyPrefix
	}
	return n.URL() + p
}

// secureCluster runs 3 nodes with TLS and tokens; the gateways verify each
// other against peerCA ("": the CA that signed them).
func secureCluster(t *testing.T, peerCA string) (*Cluster, secTokens, *http.Client, string) {
	t.Helper()
	secrets := makeSecrets(t, t.TempDir())
	auth, tk := authFile(t, secrets)
	if peerCA == "" {
		peerCA = filepath.Join(secrets, "ca.crt")
	}
	plain := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, secrets)},
		MaxIdleConnsPerHost: 16}
	c := NewClusterOpts(t, 3, ClusterOpts{
		Scheme: "https",
		Extra: map[string][]string{"gatewayd": {
			"--tls-cert", filepath.Join(secrets, "node1.crt"),
			"--tls-key", filepath.Join(secrets, "node1.key"),
			"--peer-ca", peerCA,
			"--auth-file", auth}},
		Quick: &http.Client{Timeout: 2 * time.Second, Transport: bearer{tk.admin, plain}},
	})
	return c, tk, &http.Client{Timeout: 10 * time.Second, Transport: plain}, secrets
}

func call(t *testing.T, hc *http.Client, method, u, token string) *http.Response {
	t.Helper()
	var body *strings.Reader
	if method == "PUT" {
		body = strings.NewReader("v")
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	_ = resp.Body.Close()
	return resp
}

func TestSecurityTokensEveryRoute(t *testing.T) {
	c, tk, hc, _ := secureCluster(t, "")
	n := c.Nodes[0]
	// the role just below each permission: what must get 403
	below := map[string]string{"WRITE": tk.read, "ADMIN": tk.write}
	// a token limited to app/ with the row's role, for keys outside app/
	inPrefix := map[string]string{"READ": tk.appRead, "WRITE": tk.appWrite}
	tried := 0
	for _, r := range routeTable(t) {
		for _, m := range r.methods {
			u := r.url(n, "other/")
			if r.perm == "OPEN" {
				if st := call(t, hc, m, u, "").StatusCode; st != 200 && st != 503 {
					t.Errorf("%s %s (open) without a token: %d", m, r.path, st)
				}
				continue
			}
			resp := call(t, hc, m, u, "")
			if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="raftkv"` {
				t.Errorf("%s %s without a token: %d %q", m, r.path, resp.StatusCode,
					resp.Header.Get("WWW-Authenticate"))
			}
			if st := call(t, hc, m, u, tk.admin+"x").StatusCode; st != 401 {
				t.Errorf("%s %s with a wrong token: %d, want 401", m, r.path, st)
			}
			if tok, ok := below[r.perm]; ok {
				if st := call(t, hc, m, u, tok).StatusCode; st != 403 {
					t.Errorf("%s %s with a role below %s: %d, want 403", m, r.path, r.perm, st)
				}
			}
			keyed := (strings.Contains(r.path, "{key}") || r.prefix) && !r.allKeys
			if tok, ok := inPrefix[r.perm]; ok && r.allKeys {
				// it may touch any key (transactions, leases): a prefix token never will do
				if st := call(t, hc, m, r.url(n, "app/"), tok).StatusCode; st != 403 {
					t.Errorf("%s %s (every key) with a token limited to app/: %d, want 403",
						m, r.path, st)
				}
			}
			if tok, ok := inPrefix[r.perm]; ok && keyed {
				if st := call(t, hc, m, u, tok).StatusCode; st != 403 {
					t.Errorf("%s %s outside the token's prefix: %d, want 403", m, r.path, st)
				}
				if st := call(t, hc, m, r.url(n, "app/"), tok).StatusCode; st == 401 || st == 403 {
					t.Errorf("%s %s inside the token's prefix: %d", m, r.path, st)
				}
			}
			tried++
		}
	}
	t.Logf("%d route/method pairs tried", tried)
	for _, nd := range c.Nodes { // tokens never in logs
		b, _ := os.ReadFile(filepath.Join(nd.Dir, "gatewayd.log"))
		for _, tok := range []string{tk.admin, tk.write, tk.read, tk.appWrite, tk.appRead} {
			if strings.Contains(string(b), tok) {
				t.Errorf("node %d's gatewayd log holds a token", nd.ID)
			}
		}
	}
	c.CheckAlive()
}

func TestSecurityWriteThroughFollowerOverTLS(t *testing.T) {
	c, tk, hc, secrets := secureCluster(t, "")
	leader := c.Leader(10 * time.Second)
	for i, f := range c.Followers(leader) {
		u := fmt.Sprintf("%s/v1/kv/fwd%d", f.URL(), i)
		if st := call(t, hc, "PUT", u, tk.write).StatusCode; st != 200 {
			t.Fatalf("PUT through follower %d: %d", f.ID, st)
		}
		if st := call(t, hc, "PUT", u, tk.read).StatusCode; st != 403 {
			t.Errorf("PUT with a read token through follower %d: %d, want 403", f.ID, st)
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/kv/fwd%d", leader.URL(), i), nil)
		req.Header.Set("Authorization", "Bearer "+tk.read)
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET on the leader: %v %v", err, resp)
		}
		_ = resp.Body.Close()
	}
	// A lease to renew through a follower: keepalives are forwarded to the leader's
	// gateway over https:// (its lease clock), whereas a follower's raftd relays writes.
	f := c.Followers(leader)[0]
	req, _ := http.NewRequest("POST", f.URL()+"/v1/leases", strings.NewReader(`{"ttl_ms":60000}`))
	req.Header.Set("Authorization", "Bearer "+tk.write)
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /v1/leases through follower %d: %v %v", f.ID, err, resp)
	}
	var lease struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&lease)
	_ = resp.Body.Close()
	if err != nil || lease.ID == "" {
		t.Fatalf("POST /v1/leases: no id (%v)", err)
	}
	keepalive := f.URL() + "/v1/leases/" + lease.ID + "/keepalive"
	if st := call(t, hc, "PUT", keepalive, tk.write).StatusCode; st != 200 {
		t.Fatalf("keepalive through follower %d: %d", f.ID, st)
	}
	// The leader's gateway checks a forwarded token itself: take the write token out of
	// the file and reload only the leader (SIGHUP); the followers still accept it and
	// forward, and the leader's 401 comes back through them. A write relayed by the
	// follower's raftd never reaches the leader's gateway: the follower's own file,
	// which still has the token, decides it (each gateway checks its own clients).
	auth := filepath.Join(secrets, "auth.txt")
	b, err := os.ReadFile(auth)
	if err != nil {
		t.Fatal(err)
	}
	kept := strings.ReplaceAll(string(b), tk.write+" write\n", "")
	if kept == string(b) {
		t.Fatal("the write token's line is not in auth.txt")
	}
	if err := os.WriteFile(auth, []byte(kept), 0o600); err != nil {
		t.Fatal(err)
	}
	c.Signal(leader, "gatewayd", syscall.SIGHUP)
	var st int
	for i := 0; i < 50; i++ { // the reload runs on the leader's loop within 10 ms
		st = call(t, hc, "PUT", keepalive, tk.write).StatusCode
		if st == 401 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st != 401 {
		t.Errorf("a token the leader no longer knows, forwarded through follower %d: %d, "+
			"want 401", f.ID, st)
	}
	if st := call(t, hc, "PUT", f.URL()+"/v1/kv/relayed-write", tk.write).StatusCode; st != 200 {
		t.Errorf("a write relayed through follower %d, whose file still has the token: %d, "+
			"want 200", f.ID, st)
	}
	if st := call(t, hc, "PUT", leader.URL()+"/v1/kv/fwd-revoked", tk.admin).StatusCode; st != 200 {
		t.Errorf("the admin token after the leader's reload: %d, want 200", st)
	}
	c.CheckAlive()
}

// loneGatewayd runs one gatewayd with TLS and no raftd: enough for the
// transport tests (/livez is open and answers without the rest of a node).
func loneGatewayd(t *testing.T, args ...string) (string, *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", allocPorts(1)+1)
	log, err := os.Create(filepath.Join(dir, "gatewayd.log"))
	if err != nil {
		t.Fatal(err)
	}
	all := append([]string{"--node-id", "1", "--listen", addr, "--data-dir", dir}, args...)
	cmd := exec.Command(filepath.Join(binDir(t), "gatewayd"), all...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); log.Close() })
	for i := 0; i < 100; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return addr, cmd
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "gatewayd.log"))
	t.Fatalf("gatewayd did not listen on %s:\n%s", addr, b)
	return "", nil
}

// livez sends GET /livez on conn and returns the status.
func livez(conn net.Conn, r *bufio.Reader) (int, error) {
	if _, err := conn.Write([]byte("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

func tlsLivez(addr string, cfg *tls.Config) (int, *tls.Conn, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return 0, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	st, err := livez(conn, bufio.NewReader(conn))
	return st, conn, err
}

func TestSecurityClientCertificates(t *testing.T) {
	secrets := makeSecrets(t, t.TempDir())
	foreign := makeSecrets(t, t.TempDir()) // another CA
	addr, _ := loneGatewayd(t, "--tls-cert", filepath.Join(secrets, "node1.crt"),
		"--tls-key", filepath.Join(secrets, "node1.key"),
		"--tls-client-ca", filepath.Join(secrets, "ca.crt"))
	roots := caPool(t, secrets)
	certOf := func(dir string) tls.Certificate {
		c, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.crt"), filepath.Join(dir, "client.key"))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// plain HTTP to the TLS port: no HTTP answer, the connection is closed
	conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if st, err := livez(conn, bufio.NewReader(conn)); err == nil {
		t.Errorf("plain HTTP on the TLS port got HTTP %d", st)
	}
	conn.Close()
	// no certificate, a certificate of another CA: refused
	if _, c, err := tlsLivez(addr, &tls.Config{RootCAs: roots}); err == nil {
		c.Close()
		t.Error("a client without a certificate got in")
	}
	bad := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{certOf(foreign)}}
	if _, c, err := tlsLivez(addr, bad); err == nil {
		c.Close()
		t.Error("a client certificate from another CA got in")
	}
	// the right certificate works, and the gateway is still up after all that
	good := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{certOf(secrets)}}
	st, c, err := tlsLivez(addr, good)
	if err != nil || st != 200 {
		t.Fatalf("the right client certificate: %d %v", st, err)
	}
	c.Close()
	// TLS 1.1 is refused
	old := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{certOf(secrets)},
		MaxVersion: tls.VersionTLS11}
	if _, c, err := tlsLivez(addr, old); err == nil {
		c.Close()
		t.Error("TLS 1.1 was accepted")
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSecurityCertificateReload(t *testing.T) {
	secrets := makeSecrets(t, t.TempDir())
	live := t.TempDir()
	crt, key := filepath.Join(live, "server.crt"), filepath.Join(live, "server.key")
	copyFile(t, filepath.Join(secrets, "node1.crt"), crt)
	copyFile(t, filepath.Join(secrets, "node1.key"), key)
	addr, cmd := loneGatewayd(t, "--tls-cert", crt, "--tls-key", key)
	cfg := &tls.Config{RootCAs: caPool(t, secrets)}
	cnOf := func(c *tls.Conn) string { return c.ConnectionState().PeerCertificates[0].Subject.CommonName }

	st, old, err := tlsLivez(addr, cfg)
	if err != nil || st != 200 || cnOf(old) != "raftkv-0" {
		t.Fatalf("before the reload: %d %v", st, err)
	}
	defer old.Close()
	oldReader := bufio.NewReader(old)
	copyFile(t, filepath.Join(secrets, "node2.crt"), crt) // CN raftkv-1
	copyFile(t, filepath.Join(secrets, "node2.key"), key)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var cn string
	for i := 0; i < 50 && cn != "raftkv-1"; i++ { // the reload runs on the loop within 10 ms
		time.Sleep(20 * time.Millisecond)
		_, c, err := tlsLivez(addr, cfg)
		if err != nil {
			t.Fatalf("a new connection after SIGHUP: %v", err)
		}
		cn = cnOf(c)
		c.Close()
	}
	if cn != "raftkv-1" {
		t.Fatalf("a new connection still sees %q after SIGHUP", cn)
	}
	// the old keep-alive connection goes on, with its old certificate
	_ = old.SetDeadline(time.Now().Add(5 * time.Second))
	if st, err := livez(old, oldReader); err != nil || st != 200 {
		t.Fatalf("the old connection after the reload: %d %v", st, err)
	}
	// a bad file on SIGHUP keeps the current certificate
	if err := os.WriteFile(key, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(100 * time.Millisecond)
	st, c, err := tlsLivez(addr, cfg)
	if err != nil || st != 200 || cnOf(c) != "raftkv-1" {
		t.Fatalf("after a bad reload: %d %v", st, err)
	}
	c.Close()
}

func TestSecurityRefusesPlaintextOffLoopback(t *testing.T) {
	out, err := exec.Command(filepath.Join(binDir(t), "gatewayd"), "--node-id", "1",
		"--listen", "0.0.0.0:1", "--data-dir", t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--insecure") {
		t.Fatalf("gatewayd on 0.0.0.0 without TLS: %v\n%s", err, out)
	}
}

// A gateway whose certificate does not chain to --peer-ca gets no forwarded write.
func TestSecurityPeerGatewayVerified(t *testing.T) {
	foreign := makeSecrets(t, t.TempDir())
	c, tk, hc, _ := secureCluster(t, filepath.Join(foreign, "ca.crt"))
	leader := c.Leader(10 * time.Second)
	f := c.Followers(leader)[0]
	u := f.URL() + "/v1/kv/unverified?timeout=1000"
	if st := call(t, hc, "PUT", u, tk.write).StatusCode; st == 200 {
		t.Fatalf("a write was forwarded to a gateway whose certificate is not from --peer-ca")
	}
	if st := call(t, hc, "GET", leader.URL()+"/v1/kv/unverified", tk.read).StatusCode; st != 404 {
		t.Errorf("the leader has the key: GET %d, want 404", st)
	}
	if st := call(t, hc, "PUT", leader.URL()+"/v1/kv/direct", tk.write).StatusCode; st != 200 {
		t.Errorf("a write on the leader itself: %d, want 200", st)
	}
	c.CheckAlive()
}
