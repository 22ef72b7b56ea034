package main

// The cluster under test, seen over HTTP: status, leader, readiness.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

var client = &http.Client{Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

func url(i int) string { return fmt.Sprintf("http://127.0.0.1:%d", *httpBase+i) }

type status struct {
	Role         string `json:"role"`
	CommitIndex  uint64 `json:"commit_index"`
	AppliedIndex uint64 `json:"applied_index"`
	Storage      struct {
		DataBytes int64 `json:"data_bytes"` // keys and values, what the quota counts
		UsedBytes int64 `json:"used_bytes"` // LMDB pages in use
	} `json:"storage"`
}

func getStatus(i int) (status, error) {
	var s status
	r, err := client.Get(url(i) + "/v1/status")
	if err != nil {
		return s, err
	}
	defer r.Body.Close()
	err = json.NewDecoder(r.Body).Decode(&s)
	return s, err
}

func leader() int {
	for t := 0; t < 600; t++ {
		for i := 1; i <= nodes; i++ {
			if s, err := getStatus(i); err == nil && s.Role == "leader" {
				return i
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	fail("no leader")
	return 0
}

func ready(i int) bool {
	r, err := client.Get(url(i) + "/readyz")
	if err != nil {
		return false
	}
	r.Body.Close()
	return r.StatusCode == 200
}
