package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// State is what a proxy started in the background leaves for the steps
// after it (on GitHub Actions every step is a new process): where it
// serves, its process, and the file it writes its stats to when it stops.
type State struct {
	// URL is the proxy's URL.
	URL string `json:"url"`
	// PID is the process serving it; the post step sends it SIGTERM.
	PID int `json:"pid"`
	// Stats is the file the proxy writes its stats to (Stats.WriteJSON)
	// when it stops.
	Stats string `json:"stats"`
	// Started is when it started.
	Started time.Time `json:"started"`
}

// WriteState writes st to path atomically, so that a reader polling for it
// never sees half of it.
func WriteState(path string, st State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, filepath.Dir(path), data); err != nil {
		return fmt.Errorf("writing proxy state %s: %w", path, err)
	}
	return nil
}

// WriteFile writes the stats as JSON to path atomically: a stopped proxy
// leaves them there for Stop.
func (st Stats) WriteFile(path string) error {
	var b strings.Builder
	if err := st.WriteJSON(&b); err != nil {
		return err
	}
	if err := writeFileAtomic(path, filepath.Dir(path), []byte(b.String())); err != nil {
		return fmt.Errorf("writing proxy stats %s: %w", path, err)
	}
	return nil
}

// Stop stops a proxy started in the background, as the step after it
// finds it in its state file: it sends the process SIGTERM (on Windows,
// where there is none, it kills it and there are no stats) and waits,
// bounded by ctx, for the stats file the proxy writes after its last
// store write, just before it exits. A proxy already gone without stats
// is an error.
func Stop(ctx context.Context, st State) (Stats, error) {
	p, err := os.FindProcess(st.PID)
	if err == nil {
		if err = p.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			err = p.Kill()
		}
	}
	for {
		if f, ferr := os.Open(st.Stats); ferr == nil {
			defer f.Close()
			return ReadStats(f)
		}
		if err != nil || p.Signal(syscall.Signal(0)) != nil {
			// Gone, or never found: give it a last moment to have written.
			if f, ferr := os.Open(st.Stats); ferr == nil {
				defer f.Close()
				return ReadStats(f)
			}
			return Stats{}, fmt.Errorf("proxy (pid %d) stopped without writing its stats to %s", st.PID, st.Stats)
		}
		select {
		case <-ctx.Done():
			return Stats{}, fmt.Errorf("proxy (pid %d) still running: %w", st.PID, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// ReadState reads a state file written by WriteState.
func ReadState(path string) (State, error) {
	var st State
	data, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("reading proxy state: %w", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("reading proxy state %s: %w", path, err)
	}
	return st, nil
}

// GOPROXY returns the GOPROXY value that sends the go command to the proxy
// at url, with the user's own chain (current) behind it, joined with "|":
// if the proxy ever fails (the process is gone, it answers 5xx), or has
// not a module (404), the go command goes on exactly as it would have
// without it, and only then reaches the origin servers, if and only if the
// user's chain had direct. With no chain (empty or off) it is url alone.
func GOPROXY(url, current string) string {
	current = strings.TrimSpace(current)
	if current == "" || current == "off" {
		return url
	}
	return url + "|" + current
}
