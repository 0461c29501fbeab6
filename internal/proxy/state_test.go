package proxy

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// TestHelperBackgroundProxy is not a test: it is the proxy process that
// TestStopBackgroundProxy starts, doing what `modhygiene proxy --state`
// does: serve, write the state file, and on SIGTERM close and write the
// stats.
func TestHelperBackgroundProxy(t *testing.T) {
	statePath := os.Getenv("MH_PROXY_HELPER_STATE")
	if statePath == "" {
		t.Skip("helper process")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(""); err != nil {
		t.Fatal(err)
	}
	st := State{URL: s.URL(), PID: os.Getpid(), Stats: statePath + ".stats", Started: time.Now()}
	if err := WriteState(statePath, st); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.Close(closeCtx)
	if err := s.Stats().WriteFile(st.Stats); err != nil {
		t.Fatal(err)
	}
}

// TestStopBackgroundProxy starts a proxy in another process, finds it
// through its state file as a later CI step would, uses it, and stops it.
func TestStopBackgroundProxy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM")
	}
	statePath := filepath.Join(t.TempDir(), "proxy.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBackgroundProxy$")
	cmd.Env = append(os.Environ(), "MH_PROXY_HELPER_STATE="+statePath)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var st State
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if st, err = ReadState(statePath); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no state file: %v", err)
		}
	}
	resp, err := http.Get(st.URL + "/example.com/a/@v/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stats, err := Stop(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Requests != 1 || stats.NotFound != 1 {
		t.Errorf("stats: %d requests, %d not found; want 1, 1", stats.Requests, stats.NotFound)
	}
	if err := <-done; err != nil {
		t.Errorf("proxy process: %v", err)
	}
}
