// docker_test.go - helpers that drive the Docker CLI for pods_test.go: every
// call is bounded in time, and what the test starts it removes.
package k8s

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const dockerCallTimeout = 60 * time.Second

// docker runs the docker CLI and returns its trimmed stdout, or an error
// that carries stderr.
func docker(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerCallTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// dockerCombined is docker with stdout and stderr together (docker logs
// writes the container's stderr to its own).
func dockerCombined(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerCallTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return string(out), err
}

func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := docker(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// httpDo sends one request and returns status and body (status 0: no answer);
// https:// URLs are checked against the Secret's CA and carry its admin token.
func httpDo(method, url, body string, timeout time.Duration) (int, string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	c := &http.Client{Timeout: timeout}
	if strings.HasPrefix(url, "https://") {
		// the pods' CA and admin token, from the Secret (secret_test.go)
		c.Transport = &http.Transport{TLSClientConfig: clientTLS}
		req.Header.Set("Authorization", "Bearer "+clientToken)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// nodeStatus is the part of GET /v1/status the tests look at.
type nodeStatus struct {
	ID           uint64 `json:"id"`
	Role         string `json:"role"`
	Term         uint64 `json:"term"`
	AppliedIndex uint64 `json:"applied_index"`
	Leader       *struct {
		ID uint64 `json:"id"`
	} `json:"leader"`
	Members []struct {
		ID          uint64 `json:"id"`
		PeerAddress string `json:"peer_address"`
		URL         string `json:"url"`
	} `json:"members"`
}

func getStatus(base string) (*nodeStatus, error) {
	code, body := httpDo("GET", base+"/v1/status", "", 2*time.Second)
	if code != 200 {
		return nil, fmt.Errorf("GET %s/v1/status: %d %s", base, code, body)
	}
	var s nodeStatus
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return nil, fmt.Errorf("GET %s/v1/status: %v in %s", base, err, body)
	}
	return &s, nil
}

// waitFor polls check every 500 ms until it returns nil or the deadline passes.
func waitFor(t *testing.T, what string, limit time.Duration, check func() error) {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < limit {
		if err = check(); err == nil {
			t.Logf("checked: %s (after %.1f s)", what, time.Since(start).Seconds())
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s: %v", what, limit, err)
}
