// ws.go - the smallest WebSocket client (RFC 6455) the DevTools protocol
// needs: one connection, text frames, masked writes, fragmented reads. The
// standard library has none, and this keeps the driver free of modules.
package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

const wsMessageMax = 64 << 20 // a screenshot is a few MB of base64

type wsConn struct {
	c net.Conn
	r *bufio.Reader
}

func wsDial(raw string, timeout time.Duration) (*wsConn, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", u.Host, timeout)
	if err != nil {
		return nil, err
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		c.Close()
		return nil, err
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		u.RequestURI(), u.Host, base64.StdEncoding.EncodeToString(key))
	r := bufio.NewReader(c)
	status, err := r.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		c.Close()
		return nil, fmt.Errorf("websocket handshake: %q %v", status, err)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			c.Close()
			return nil, err
		}
		if line == "\r\n" {
			break
		}
	}
	return &wsConn{c: c, r: r}, nil
}

func (w *wsConn) writeText(p []byte) error {
	head := []byte{0x81}
	switch n := len(p); {
	case n < 126:
		head = append(head, 0x80|byte(n))
	case n < 1<<16:
		head = append(head, 0x80|126, byte(n>>8), byte(n))
	default:
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		head = append(append(head, 0x80|127), b[:]...)
	}
	mask := make([]byte, 4)
	if _, err := rand.Read(mask); err != nil {
		return err
	}
	head = append(head, mask...)
	body := make([]byte, len(p))
	for i := range p {
		body[i] = p[i] ^ mask[i%4]
	}
	_, err := w.c.Write(append(head, body...))
	return err
}

// readMessage returns the next whole text message, answering pings on the way.
func (w *wsConn) readMessage() ([]byte, error) {
	var msg []byte
	for {
		var h [2]byte
		if _, err := io.ReadFull(w.r, h[:]); err != nil {
			return nil, err
		}
		fin, op := h[0]&0x80 != 0, h[0]&0x0f
		n := uint64(h[1] & 0x7f)
		if n == 126 || n == 127 {
			ext := make([]byte, map[uint64]int{126: 2, 127: 8}[n])
			if _, err := io.ReadFull(w.r, ext); err != nil {
				return nil, err
			}
			n = 0
			for _, b := range ext {
				n = n<<8 | uint64(b)
			}
		}
		if h[1]&0x80 != 0 || uint64(len(msg))+n > wsMessageMax {
			return nil, errors.New("websocket: masked or oversized frame from the server")
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(w.r, p); err != nil {
			return nil, err
		}
		switch op {
		case 8:
			return nil, errors.New("websocket: closed by the browser")
		case 9:
			continue // a ping: the browser does not send them to DevTools clients in practice
		case 10:
			continue
		}
		msg = append(msg, p...)
		if fin {
			return msg, nil
		}
	}
}

func (w *wsConn) close() { w.c.Close() }
