package mirror

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fake is a module proxy for tests: it answers .info requests for any
// module with the requested version after a set latency, and misbehaves on
// demand.
type fake struct {
	latency time.Duration
	// mode is "" (behave), "500", "stall" (never answer), "stallbody"
	// (headers, then nothing), "truncate", "badjson", "wrongversion", "404".
	mode string
	// sumdb is whether /sumdb/<name>/supported answers 200.
	sumdb bool
	// stallAfter, when positive, makes .info requests after the first
	// stallAfter ones never answer.
	stallAfter int64
	hits       atomic.Int64
	infos      atomic.Int64
}

const testDB = "sum.example"

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	if f.mode == "stall" {
		<-r.Context().Done()
		return
	}
	select {
	case <-time.After(f.latency):
	case <-r.Context().Done():
		return
	}
	if strings.HasSuffix(r.URL.Path, "/supported") {
		if f.sumdb && r.URL.Path == "/sumdb/"+testDB+"/supported" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.NotFound(w, r)
		return
	}
	_, ver, ok := strings.Cut(r.URL.Path, "/@v/")
	if !ok || !strings.HasSuffix(ver, ".info") {
		http.NotFound(w, r)
		return
	}
	ver = strings.TrimSuffix(ver, ".info")
	if n := f.infos.Add(1); f.stallAfter > 0 && n > f.stallAfter {
		<-r.Context().Done()
		return
	}
	body := fmt.Sprintf(`{"Version":%q,"Time":"2024-01-02T03:04:05Z"}`, ver)
	switch f.mode {
	case "500":
		http.Error(w, "upstream exploded", http.StatusInternalServerError)
		return
	case "404":
		http.NotFound(w, r)
		return
	case "badjson":
		body = "<html>captive portal</html>"
	case "wrongversion":
		body = `{"Version":"v9.9.9"}`
	case "truncate":
		w.Header().Set("Content-Length", fmt.Sprint(len(body)+100))
		w.Write([]byte(body[:10]))
		return
	case "stallbody":
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(body[:5]))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(body))
}

// serve starts f and returns its URL.
func serve(t testing.TB, f *fake) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// refused returns a URL on which nothing listens.
func refused(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// silentListener returns a URL whose listener accepts connections and never
// reads or writes.
func silentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

func serveHandler(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
