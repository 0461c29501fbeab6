package stage

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
	"github.com/modhygiene/modhygiene/internal/cache/stores"
	"github.com/modhygiene/modhygiene/internal/report"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// Timings keeps the stage timings of a repository's runs, so that the next
// run can show the change: in the user cache directory (a laptop, a
// self-hosted runner, the post step of the same job), as a small entry of
// the cache store (GitHub, S3: a fresh runner finds the last run's figures
// where it finds the module cache), and with GitLab's in-project cache
// inside GOMODCACHE, which the runner's cache: keeps.
type Timings struct {
	// ID names the repository; see TimingsID.
	ID string
	// Continue says that this run continues the one recorded in the user
	// cache directory (the GitHub Action's post step): its stages are
	// added to that record.
	Continue bool
}

// timingsRecord is what is kept of one run.
type timingsRecord struct {
	Version int                      `json:"version"`
	Time    time.Time                `json:"time"`
	Stages  map[string]time.Duration `json:"stages_ns"`
}

const timingsVersion = 1

// TimingsID names a repository's timings: its module paths and the OS, not
// its location on disk (each CI job checks it out somewhere else).
func TimingsID(ws *workspace.Workspace) string {
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

// file is the record in the user cache directory, "" when there is none.
func (t *Timings) file(env *Env) string {
	if env.ToolDir == "" {
		return ""
	}
	return filepath.Join(env.ToolDir, "timings", t.ID+".json")
}

// projectFile is the record kept with GitLab's in-project cache, inside
// GOMODCACHE (below cache/, which prune leaves alone), or "".
func (t *Timings) projectFile(ctx context.Context, env *Env) string {
	mc := modCache(ctx, env)
	if mc == "" || !inside(mc, env.CI.GitLab.ProjectDir) {
		return ""
	}
	return filepath.Join(mc, "cache", "modhygiene", "timings-"+t.ID+".json")
}

// startLoad starts reading the last run's figures; the function it returns
// waits for them (nil when there are none).
func (t *Timings) startLoad(ctx context.Context, env *Env) func() *timingsRecord {
	if t == nil {
		return func() *timingsRecord { return nil }
	}
	done := make(chan *timingsRecord, 1)
	go func() { done <- t.load(ctx, env) }()
	return func() *timingsRecord { return <-done }
}

func (t *Timings) load(ctx context.Context, env *Env) *timingsRecord {
	rec := readTimings(t.file(env))
	switch env.StoreKind {
	case stores.GitHub, stores.S3:
		if ok, _ := env.CI.RestoreAllowed(); ok && env.Store != nil {
			rec = newer(rec, openTimings(ctx, env.Store, t.ID))
		}
	case stores.InProject:
		rec = newer(rec, readTimings(t.projectFile(ctx, env)))
	}
	return rec
}

// keep records out's stage timings and fills in each stage's Previous from
// previous. The record goes to the user cache directory and, when the run
// saved the caches, where the cache keeps it for the next run.
func (t *Timings) keep(ctx context.Context, env *Env, out *Outcome, previous *timingsRecord) {
	if t == nil {
		return
	}
	rec := &timingsRecord{Version: timingsVersion, Time: time.Now().UTC(), Stages: map[string]time.Duration{}}
	if t.Continue {
		if r := readTimings(t.file(env)); r != nil {
			rec = r
		}
	} else {
		setPrevious(out.Stages, previous)
	}
	for _, s := range out.Stages {
		if s.Duration > 0 {
			rec.Stages[s.Name] = s.Duration
		}
	}
	writeTimings(t.file(env), rec)
	if save := out.Stage("save"); save == nil || save.Status != string(OK) {
		return
	}
	switch env.StoreKind {
	case stores.GitHub, stores.S3:
		if ok, _ := env.CI.SaveAllowed(false); ok && env.Store != nil {
			putTimings(ctx, env, t.ID, rec)
		}
	case stores.InProject:
		writeTimings(t.projectFile(ctx, env), rec)
	}
}

func parseTimings(data []byte) *timingsRecord {
	var t timingsRecord
	if json.Unmarshal(data, &t) != nil || t.Version != timingsVersion || t.Stages == nil {
		return nil
	}
	return &t
}

func readTimings(path string) *timingsRecord {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return parseTimings(data)
}

// writeTimings writes t to path atomically; a problem is ignored (the
// figures are a nicety).
func writeTimings(path string, t *timingsRecord) {
	if path == "" {
		return
	}
	data, _ := json.Marshal(t)
	writeFileAtomic(path, data)
}

// openTimings reads the newest timings entry from st, or nil.
func openTimings(ctx context.Context, st store.Store, id string) *timingsRecord {
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

// putTimings adds t to the store as a new entry. Problems are warnings.
func putTimings(ctx context.Context, env *Env, id string, t *timingsRecord) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	data, _ := json.Marshal(t)
	key := fmt.Sprintf("%s%d", timingsPrefix(id), t.Time.UnixNano())
	if _, err := env.Store.Put(ctx, key, bytes.NewReader(data)); err != nil && err != store.ErrExists {
		warn(env, "cache: stage timings not saved: %v", err)
	}
}

// newer returns the more recent of two records.
func newer(x, y *timingsRecord) *timingsRecord {
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
func setPrevious(stages []report.Stage, t *timingsRecord) {
	if t == nil {
		return
	}
	for i := range stages {
		if d, ok := t.Stages[stages[i].Name]; ok && d > 0 {
			stages[i].Previous = d
		}
	}
}
