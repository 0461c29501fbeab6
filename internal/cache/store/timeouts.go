package store

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

// Timeouts bound every request of a network store, so that a store that
// accepts the connection and never answers, or stops in the middle of a
// body, costs seconds. The zero value is the default.
type Timeouts struct {
	// Connect bounds dialing and the TLS handshake; 0 means 10 seconds.
	Connect time.Duration
	// FirstByte bounds the wait for the answer's headers once the request
	// is sent; 0 means 30 seconds.
	FirstByte time.Duration
	// Idle bounds every wait for the connection to take or give a byte
	// (a body read or written in the middle); 0 means 30 seconds.
	Idle time.Duration
}

func (t Timeouts) connect() time.Duration   { return orDefault(t.Connect, 10*time.Second) }
func (t Timeouts) firstByte() time.Duration { return orDefault(t.FirstByte, 30*time.Second) }
func (t Timeouts) idle() time.Duration      { return orDefault(t.Idle, 30*time.Second) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Transport returns an HTTP transport (HTTP/1.1, proxies from the
// process environment as net/http reads them) that enforces t: the dial
// and the TLS handshake within Connect, the answer's headers within
// FirstByte, and no read or write of the connection waiting longer than
// Idle.
func (t Timeouts) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: t.connect(), KeepAlive: 30 * time.Second}
	idle := t.idle()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: idle}, nil
	}
	tr.ForceAttemptHTTP2 = false
	tr.TLSHandshakeTimeout = t.connect()
	tr.ResponseHeaderTimeout = t.firstByte()
	tr.IdleConnTimeout = min(idle, 90*time.Second)
	tr.ExpectContinueTimeout = time.Second
	return tr
}

// idleConn fails a read or a write that waits longer than idle.
type idleConn struct {
	net.Conn
	idle time.Duration
}

// Read reads within the idle time.
func (c *idleConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	n, err := c.Conn.Read(p)
	return n, c.explain(err, "received")
}

// Write writes within the idle time.
func (c *idleConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	n, err := c.Conn.Write(p)
	return n, c.explain(err, "sent")
}

func (c *idleConn) explain(err error, what string) error {
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return &idleError{fmt.Sprintf("nothing %s for %s", what, c.idle), err}
	}
	return err
}

// idleError is a read or write that waited longer than the idle time.
type idleError struct {
	msg string
	err error
}

func (e *idleError) Error() string   { return e.msg }
func (e *idleError) Unwrap() error   { return e.err }
func (e *idleError) Timeout() bool   { return true }
func (e *idleError) Temporary() bool { return false }

// IsTimeout reports whether err is a deadline of Timeouts or of a context:
// the store did not answer in time, and asking again would wait as long.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}
