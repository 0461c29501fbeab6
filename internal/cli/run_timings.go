package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// runTimings are the stage timings of one run, kept so that the next run
// can show the change: in the user cache directory (a laptop, a
// self-hosted runner, the post step of the same job), as a small entry of
// the cache store (GitHub, S3: a fresh runner finds the last run's figures
// where it finds the module cache), and on GitLab inside GOMODCACHE, which
// the runner's cache: keeps.
type runTimings struct {
	Version int                      `json:"version"`
	Time    time.Time                `json:"time"`
	Stages  map[string]time.Duration `json:"stages_ns"`
}

const timingsVersion = 1

// timingsID names a repository's timings: its module paths and the OS, not
// its location on disk (each CI job checks it out somewhere else).
func timingsID(ws *workspace.Workspace) string {
	var names []string
	for _, m := range ws.Modules {
		names = append(names, m.Rel+"="+m.Name())
	}
	sort.Strings(names)
	h := sha256.Sum256([]byte(runtime.GOOS + "\n" + strings.Join(names, "\n")))
	return hex.EncodeToString(h[:8])
}

// timingsPrefix is the prefix of the store keys of a repository's timings;
// each save adds an entry (entries are immutable) and Open finds the newest.
func timingsPrefix(id string) string { return "modhygiene-timings-v1-" + id + "-" }

func (a *app) timingsFile(id string) string {
	dir, err := a.toolCacheDir("timings")
	if err != nil {
		return ""
	}
	return filepath.Join(dir, id+".json")
}

// gitlabTimingsFile is inside GOMODCACHE (below cache/, which prune leaves
// alone), so that the runner's cache: carries it to the next job.
func gitlabTimingsFile(modCache, id string) string {
	return filepath.Join(modCache, "cache", "modhygiene", "timings-"+id+".json")
}

func parseTimings(data []byte) *runTimings {
	var t runTimings
	if json.Unmarshal(data, &t) != nil || t.Version != timingsVersion || t.Stages == nil {
		return nil
	}
	return &t
}

func readTimingsFile(path string) *runTimings {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return parseTimings(data)
}

// writeTimingsFile writes t to path atomically; a problem is ignored (the
// figures are a nicety).
func writeTimingsFile(path string, t *runTimings) {
	if path == "" {
		return
	}
	data, _ := json.Marshal(t)
	if os.MkdirAll(filepath.Dir(path), 0o755) != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".timings-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(data)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), path) != nil {
		os.Remove(tmp.Name())
	}
}

// openTimings reads the newest timings entry from st, or nil.
func openTimings(ctx context.Context, st store.Store, id string) *runTimings {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	prefix := timingsPrefix(id)
	e, err := st.Open(ctx, prefix+"latest", prefix)
	if err != nil {
		return nil
	}
	defer e.Body.Close()
	data, err := io.ReadAll(io.LimitReader(e.Body, 64<<10))
	if err != nil {
		return nil
	}
	return parseTimings(data)
}

// putTimings adds t to st as a new entry. Problems are warnings.
func (a *app) putTimings(ctx context.Context, st store.Store, id string, t *runTimings) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	data, _ := json.Marshal(t)
	key := fmt.Sprintf("%s%d", timingsPrefix(id), t.Time.UnixNano())
	if _, err := st.Put(ctx, key, bytes.NewReader(data)); err != nil && err != store.ErrExists {
		fmt.Fprintf(a.stderr, "warning: cache: stage timings not saved: %v\n", err)
	}
}

// newer returns the more recent of two timings.
func newer(x, y *runTimings) *runTimings {
	switch {
	case x == nil:
		return y
	case y == nil:
		return x
	case y.Time.After(x.Time):
		return y
	}
	return x
}

// setPrevious fills each stage's Previous from t.
func setPrevious(stages []report.Stage, t *runTimings) {
	if t == nil {
		return
	}
	for i := range stages {
		if d, ok := t.Stages[stages[i].Name]; ok && d > 0 {
			stages[i].Previous = d
		}
	}
}

// timingsOf records the stages' wall times at now.
func timingsOf(stages []report.Stage, now time.Time) *runTimings {
	t := &runTimings{Version: timingsVersion, Time: now.UTC(), Stages: map[string]time.Duration{}}
	for _, s := range stages {
		if s.Duration > 0 {
			t.Stages[s.Name] = s.Duration
		}
	}
	return t
}
