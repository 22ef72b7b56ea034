package main

// A wiped follower's catch-up in phases, from the nodes' logs: until the leader asks
// storaged for an image, the image, until the first chunk, the chunks, the install.

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// logTime is when a line of node's role log containing msg was last written after since.
func logTime(node int, role, msg string, since time.Time) (time.Time, bool) {
	f, err := os.Open(filepath.Join(*dataDir, fmt.Sprintf("node%d", node), role+".log"))
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	var last time.Time
	found := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "ts=") || !strings.Contains(line, msg) {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, strings.Fields(line)[0][3:])
		if err == nil && ts.After(since) {
			last, found = ts, true
		}
	}
	return last, found
}

// phases names the steps of a catch-up from leader l to follower f started at start.
func phases(l, f int, start time.Time, end time.Time, bytes int64) string {
	marks := []struct {
		node      int
		role, msg string
		phase     string
	}{
		{l, "raftd", "image requested", "start to image asked"},
		{l, "storaged", "image written", "image"},
		{f, "raftd", "receiving snapshot", "to first chunk"},
		{f, "raftd", "installing received snapshot", "chunks and fsync"},
	}
	s, prev := "", start
	for _, m := range marks {
		t, ok := logTime(m.node, m.role, m.msg, start.Add(-time.Second))
		if !ok {
			return s + " (" + m.msg + ": not logged)"
		}
		s += fmt.Sprintf("%s %.2f s, ", m.phase, t.Sub(prev).Seconds())
		if m.phase == "chunks and fsync" {
			s += fmt.Sprintf("(%.0f MB/s), ", float64(bytes)/1e6/t.Sub(prev).Seconds())
		}
		prev = t
	}
	return s + fmt.Sprintf("install and apply %.2f s", end.Sub(prev).Seconds())
}
