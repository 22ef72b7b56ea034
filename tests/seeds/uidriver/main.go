// uidriver drives headless Chromium through the DevTools protocol against
// raftkv's dashboard (/ui/) and checks what a person would see:
//
//  1. the members table fills in: -nodes rows, one leader, the others
//     followers, each with a term and indexes;
//  2. a key put through the page's form is answered 200 and shows in the
//     key browser;
//  3. the key browser pages: with -page-prefix holding more keys than a
//     page, "next" leads to the rest;
//  4. the recent-changes panel shows the put (the watch API's long poll);
//  5. a key put and then deleted with its row's button leaves the browser.
//
// Then it saves a screenshot (-shot) and prints one "ok:" line per check;
// the first failed check exits 1. Usage: see flags.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

type cdp struct {
	ws     *wsConn
	nextID int
}

// call sends one DevTools command and waits for its answer (events in between are dropped).
func (c *cdp) call(method string, params interface{}) (json.RawMessage, error) {
	c.nextID++
	id := c.nextID
	req, _ := json.Marshal(map[string]interface{}{"id": id, "method": method, "params": params})
	if err := c.ws.writeText(req); err != nil {
		return nil, err
	}
	for {
		raw, err := c.ws.readMessage()
		if err != nil {
			return nil, err
		}
		var m struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(raw, &m) != nil || m.ID != id {
			continue
		}
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	}
}

// eval runs expr in the page and decodes its (JSON-able) value into out.
func (c *cdp) eval(expr string, out interface{}) error {
	res, err := c.call("Runtime.evaluate", map[string]interface{}{
		"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("page script: %s", r.ExceptionDetails.Text)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, out)
}

// until evaluates expr (a boolean) every 100 ms until it is true or timeout passes.
func (c *cdp) until(what, expr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		err := c.eval(expr, &ok)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not within %v (last error: %v)", what, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startChromium starts the browser and returns it with its DevTools address (host:port).
// insecure: accept the test CA's certificates (the browser has no flag to trust one CA).
func startChromium(bin, profile string, insecure bool) (*exec.Cmd, string, error) {
	args := []string{"--headless", "--no-sandbox", "--disable-gpu",
		"--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--user-data-dir=" + profile, "--window-size=1280,900"}
	if insecure {
		args = append(args, "--ignore-certificate-errors")
	}
	cmd := exec.Command(bin, append(args, "about:blank")...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "DevTools listening on ws://"); i >= 0 {
				rest := line[i+len("DevTools listening on ws://"):]
				found <- rest[:strings.Index(rest, "/")]
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, addr, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, "", fmt.Errorf("chromium did not print its DevTools address within 30 s")
	}
}

// pageSocket returns the WebSocket URL of the browser's first page.
func pageSocket(addr string) (string, error) {
	resp, err := http.Get("http://" + addr + "/json/list")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var targets []struct {
		Type string `json:"type"`
		WS   string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&targets); err != nil {
		return "", err
	}
	for _, t := range targets {
		if t.Type == "page" {
			return t.WS, nil
		}
	}
	return "", fmt.Errorf("no page target among %d", len(targets))
}

func fail(format string, a ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	chromium := flag.String("chromium", "chromium", "the browser")
	pageURL := flag.String("url", "", "the dashboard, e.g. http://127.0.0.1:4001/ui/")
	shot := flag.String("shot", "", "where to save the screenshot (PNG)")
	nodes := flag.Int("nodes", 3, "members the table must show")
	learners := flag.Int("learners", 0, "of them, learners (shown as such)")
	key := flag.String("key", "ui-key", "the key to put through the page")
	value := flag.String("value", "written through the dashboard", "its value")
	pagePrefix := flag.String("page-prefix", "", "a prefix holding more keys than one page (20)")
	pageTotal := flag.Int("page-total", 0, "how many keys it holds")
	token := flag.String("token", "", "a bearer token to type into the token field")
	profile := flag.String("profile", "", "chromium's profile directory (a fresh one)")
	insecure := flag.Bool("insecure", false, "accept any TLS certificate (a test CA's)")
	flag.Parse()
	if *pageURL == "" || *shot == "" || *profile == "" {
		fail("usage: uidriver -url URL -shot FILE -profile DIR [flags]")
	}
	cmd, addr, err := startChromium(*chromium, *profile, *insecure)
	if err != nil {
		fail("%v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	wsURL, err := pageSocket(addr)
	if err != nil {
		fail("%v", err)
	}
	ws, err := wsDial(wsURL, 10*time.Second)
	if err != nil {
		fail("%v", err)
	}
	defer ws.close()
	c := &cdp{ws: ws}
	if err := run(c, *pageURL, *token, *nodes, *learners, *key, *value, *pagePrefix, *pageTotal); err != nil {
		saveShot(c, *shot)
		fail("%v", err)
	}
	if err := saveShot(c, *shot); err != nil {
		fail("screenshot: %v", err)
	}
	fmt.Printf("ok: screenshot saved to %s\n", *shot)
}

func saveShot(c *cdp, path string) error {
	res, err := c.call("Page.captureScreenshot", map[string]interface{}{"format": "png"})
	if err != nil {
		return err
	}
	var r struct {
		Data string `json:"data"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}
