// client_test.go - a small HTTP client for raftkv's API, as a user would call it.
package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

type Reply struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error // transport error: the outcome of a write is then unknown
}

type WriteResult struct {
	Key         string `json:"key"`
	CreateIndex uint64 `json:"create_index"`
	ModIndex    uint64 `json:"mod_index"`
}

type ErrorBody struct {
	Error struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	} `json:"error"`
}

var client = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}

func do(method, u string, body []byte, hdr map[string]string) Reply {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return Reply{Err: err}
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return Reply{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: b, Err: err}
}

func kvURL(n *Node, key string, query string) string {
	u := n.URL() + "/v1/kv/" + url.PathEscape(key)
	if query != "" {
		u += "?" + query
	}
	return u
}

func Put(n *Node, key, value string, hdr map[string]string) Reply {
	return do("PUT", kvURL(n, key, ""), []byte(value), hdr)
}

func Get(n *Node, key string, query string) Reply {
	return do("GET", kvURL(n, key, query), nil, nil)
}

func Delete(n *Node, key string, hdr map[string]string) Reply {
	return do("DELETE", kvURL(n, key, ""), nil, hdr)
}

func (r Reply) Write() (WriteResult, error) {
	var w WriteResult
	if r.Err != nil {
		return w, r.Err
	}
	if r.Status != 200 {
		return w, fmt.Errorf("status %d: %s", r.Status, r.Body)
	}
	err := json.Unmarshal(r.Body, &w)
	return w, err
}

func (r Reply) ErrorCode() string {
	var e ErrorBody
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

func (r Reply) String() string {
	if r.Err != nil {
		return "transport error: " + r.Err.Error()
	}
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}
