package proxy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".proxy-state-*")
	if err != nil {
		return fmt.Errorf("writing proxy state %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("writing proxy state %s: %w", path, err)
	}
	return nil
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
// at url: url alone, followed by ",direct" when the user's own chain
// (current) let the go command reach the origin servers, so that a module
// no mirror has (a 404 from the proxy) is still fetched from its origin,
// exactly as before.
func GOPROXY(url, current string) string {
	for _, f := range strings.FieldsFunc(current, func(r rune) bool { return r == ',' || r == '|' }) {
		if strings.TrimSpace(f) == "direct" {
			return url + ",direct"
		}
	}
	return url
}
