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

// State is what the runs of a repository keep for the next one: the stage
// timings (to show the change), the tidy memo (so that a run tidies only
// the modules whose inputs changed), check's package listings (so that it
// lists only those), and the fingerprints of the findings (so that a pull
// request's run can tell which findings are new against its base branch).
//
// It is kept in the user cache directory (timings and findings: a laptop,
// a self-hosted runner, the post step of the same job), as one small entry
// per branch in the cache store (GitHub, S3: a fresh runner finds the last
// run's state where it finds the module cache; a pull request reads its
// own branch's, else its base branch's), and with GitLab's in-project cache
// inside GOMODCACHE, which the runner's cache: keeps.
type State struct {
	// ID names the repository; see StateID.
	ID string
	// Continue says that this run continues the one recorded in the user
	// cache directory (the GitHub Action's post step): its stages are
	// added to that record, and the findings are that run's.
	Continue bool
}

// stateRecord is what is kept of one run.
type stateRecord struct {
	Version int                      `json:"version"`
	Time    time.Time                `json:"time"`
	Branch  string                   `json:"branch,omitempty"`
	Stages  map[string]time.Duration `json:"stages_ns"`
	// Memo is the tidy memo's entries (tidy.Memo.MarshalEntries).
	Memo json.RawMessage `json:"tidy_memo,omitempty"`
	// Findings are the run's finding fingerprints, sorted.
	Findings []string `json:"fingerprints,omitempty"`
	// ListingKeys are the keys of check's package listings of the run's
	// modules (check.Result.ListingKeys), and Listings those listings as
	// stored (modgraph.ListingStore.Raw), kept in the store only.
	ListingKeys []string          `json:"listing_keys,omitempty"`
	Listings    map[string][]byte `json:"check_listings,omitempty"`
}

const stateVersion = 1

// maxStateRecord bounds a state record read from the store; maxListings
// bounds the check listings a record carries, within it.
const (
	maxStateRecord = 8 << 20
	maxListings    = 4 << 20
)

// previous is what a run found of the runs before it.
type previous struct {
	// timings is the newest record, from the user cache directory or the
	// store: the last run's stage timings.
	timings *stateRecord
	// stored is the newest record the store or the project keeps of this
	// branch or, failing that, of the base branch: its tidy memo.
	stored *stateRecord
	// base is the base branch's newest record: its findings.
	base *stateRecord
}

// StateID names a repository's state: its module paths and the OS, not
// its location on disk (each CI job checks it out somewhere else).
func StateID(ws *workspace.Workspace) string {
	var names []string
	for _, m := range ws.Modules {
		names = append(names, m.Rel+"="+m.Name())
	}
	sort.Strings(names)
	h := sha256.Sum256([]byte(runtime.GOOS + "\n" + strings.Join(names, "\n")))
	return hex.EncodeToString(h[:8])
}

// statePrefix is the prefix of the store keys of a repository's state on
// branch ("" for every branch); each save adds an entry (entries are
// immutable) and Open finds the newest.
func statePrefix(id, branch string) string {
	p := "modhygiene-state-v1-" + id + "-"
	if branch == "" {
		return p
	}
	return p + branchSlug(branch) + "-"
}

// branchSlug is branch in the characters store keys allow, made unique by
// a hash (so that no branch's prefix is another's).
func branchSlug(branch string) string {
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, branch)
	if len(safe) > 40 {
		safe = safe[:40]
	}
	h := sha256.Sum256([]byte(branch))
	return safe + "." + hex.EncodeToString(h[:4])
}

// file is the record in the user cache directory, "" when there is none.
func (s *State) file(env *Env) string {
	if env.ToolDir == "" {
		return ""
	}
	return filepath.Join(env.ToolDir, "timings", s.ID+".json")
}

// projectFile is the record kept with GitLab's in-project cache, inside
// GOMODCACHE (below cache/, which prune leaves alone), or "".
func (s *State) projectFile(ctx context.Context, env *Env) string {
	mc := modCache(ctx, env)
	if mc == "" || !inside(mc, env.CI.GitLab.ProjectDir) {
		return ""
	}
	return filepath.Join(mc, "cache", "modhygiene", "state-"+s.ID+".json")
}

// startLoad starts reading what the runs before kept; the function it
// returns waits for it.
func (s *State) startLoad(ctx context.Context, env *Env) func() *previous {
	if s == nil {
		return func() *previous { return &previous{} }
	}
	done := make(chan *previous, 1)
	go func() { done <- s.load(ctx, env) }()
	var p *previous
	return func() *previous {
		if p == nil {
			p = <-done
		}
		return p
	}
}

func (s *State) load(ctx context.Context, env *Env) *previous {
	p := &previous{}
	branch, base := env.CI.Branch(), env.CI.BaseBranch()
	switch env.StoreKind {
	case stores.GitHub, stores.S3, stores.File:
		if ok, _ := env.CI.RestoreAllowed(); !ok || env.Store == nil {
			break
		}
		var prefixes []string
		for _, b := range []string{branch, base} {
			if b != "" {
				prefixes = append(prefixes, statePrefix(s.ID, b))
			}
		}
		if len(prefixes) == 0 {
			prefixes = []string{statePrefix(s.ID, "")}
		}
		p.stored = openState(ctx, env.Store, prefixes)
		if base != "" && base != branch {
			p.base = openState(ctx, env.Store, []string{statePrefix(s.ID, base)})
		} else if p.stored != nil && p.stored.Branch == base {
			p.base = p.stored
		}
	case stores.InProject:
		p.stored = readState(s.projectFile(ctx, env))
	}
	p.timings = newer(readState(s.file(env)), p.stored)
	return p
}

// keep records out's stage timings and findings and fills in each stage's
// Previous. The record goes to the user cache directory and, when the run
// saved the caches, where the cache keeps it for the next run, with the
// tidy memo.
func (s *State) keep(ctx context.Context, env *Env, out *Outcome, prev *previous) {
	if s == nil {
		return
	}
	rec := &stateRecord{Version: stateVersion, Time: time.Now().UTC(), Branch: env.CI.Branch(), Stages: map[string]time.Duration{}}
	if s.Continue {
		if r := readState(s.file(env)); r != nil {
			rec = r
		}
	} else {
		setPrevious(out.Stages, prev.timings)
		rec.Findings = fingerprints(out)
		rec.ListingKeys = env.listingKeys
	}
	for _, st := range out.Stages {
		if st.Duration > 0 {
			rec.Stages[st.Name] = st.Duration
		}
	}
	writeState(s.file(env), rec)
	if save := out.Stage("save"); save == nil || save.Status != string(OK) {
		return
	}
	rec.Memo = memoEntries(env)
	rec.Listings = listingEntries(env, rec.ListingKeys)
	switch env.StoreKind {
	case stores.GitHub, stores.S3, stores.File:
		if ok, _ := env.CI.SaveAllowed(false); ok && env.Store != nil && changed(prev.stored, rec) {
			putState(ctx, env, s.ID, rec)
		}
	case stores.InProject:
		writeState(s.projectFile(ctx, env), rec)
	}
}

// changed reports whether rec should be saved over old: the store's
// entries are immutable, so a new one is added only when the memo or the
// findings changed, or old is a day old (to refresh the timings).
func changed(old, rec *stateRecord) bool {
	if old == nil || old.Branch != rec.Branch || rec.Time.Sub(old.Time) > 24*time.Hour {
		return true
	}
	return !bytes.Equal(old.Memo, rec.Memo) || strings.Join(old.Findings, ",") != strings.Join(rec.Findings, ",") ||
		strings.Join(old.ListingKeys, ",") != strings.Join(rec.ListingKeys, ",")
}

func fingerprints(out *Outcome) []string {
	fps := make([]string, 0, len(out.Findings))
	for _, f := range out.Findings {
		if !f.IsFailure() {
			fps = append(fps, f.Fingerprint)
		}
	}
	sort.Strings(fps)
	return fps
}

func parseState(data []byte) *stateRecord {
	var r stateRecord
	if json.Unmarshal(data, &r) != nil || r.Version != stateVersion || r.Stages == nil {
		return nil
	}
	return &r
}

func readState(path string) *stateRecord {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return parseState(data)
}

// writeState writes r to path atomically; a problem is ignored (the
// record is a nicety).
func writeState(path string, r *stateRecord) {
	if path == "" {
		return
	}
	data, _ := json.Marshal(r)
	writeFileAtomic(path, data)
}

// openState reads the newest record under the first of prefixes that has
// one, or nil.
func openState(ctx context.Context, st store.Store, prefixes []string) *stateRecord {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	e, err := st.Open(ctx, prefixes[0]+"latest", prefixes...)
	if err != nil {
		return nil
	}
	defer e.Body.Close()
	data, err := io.ReadAll(io.LimitReader(e.Body, maxStateRecord))
	if err != nil {
		return nil
	}
	return parseState(data)
}

// putState adds r to the store as a new entry. Problems are warnings.
func putState(ctx context.Context, env *Env, id string, r *stateRecord) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	data, _ := json.Marshal(r)
	key := fmt.Sprintf("%s%d", statePrefix(id, r.Branch), r.Time.UnixNano())
	if _, err := env.Store.Put(ctx, key, bytes.NewReader(data)); err != nil && err != store.ErrExists {
		warn(env, "cache: the run's state (timings, tidy memo) not saved: %v", err)
	}
}

// newer returns the more recent of two records.
func newer(x, y *stateRecord) *stateRecord {
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

// setPrevious fills each stage's Previous from r.
func setPrevious(stages []report.Stage, r *stateRecord) {
	if r == nil {
		return
	}
	for i := range stages {
		if d, ok := r.Stages[stages[i].Name]; ok && d > 0 {
			stages[i].Previous = d
		}
	}
}
