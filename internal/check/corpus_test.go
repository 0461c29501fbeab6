package check

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rogpeppe/go-internal/goproxytest"
	"golang.org/x/mod/modfile"
	"golang.org/x/tools/txtar"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/testenv"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// TestCorpus runs the fixtures cut down from real repositories (the
// testdata/{ok,err}/*.txtar with a .gomodproxy directory) with the real go
// command against a module proxy serving that directory, online as check
// runs by default:
//
//  1. every module is tidied first, and its go.mod must not change (the
//     fixture is a tidy repository, so its lines are the want lines');
//  2. Run's findings must equal the "want" file (RULE SEVERITY FILE:LINE
//     SUBJECT[ | FIX]); an ok fixture may have infos only;
//  3. the path of every finding about a linked module is the one
//     `go mod why -m` prints, mapped to modules;
//  4. every printed fix is run with sh on a copy of the repository; then
//     the module it changes must be tidy (go mod tidy -diff), build and
//     vet, and a new Run must not report the finding again.
func TestCorpus(t *testing.T) {
	shared := corpusShared(t)
	for _, kind := range []string{"ok", "err"} {
		files, _ := filepath.Glob(filepath.Join("testdata", kind, "*.txtar"))
		for _, file := range files {
			if !isCorpus(t, file) {
				continue
			}
			t.Run(kind+"/"+strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
				runCorpus(t, shared, kind, file)
			})
		}
	}
}

// corpusShared is the environment every corpus run shares: the go
// toolchain and the build cache (a cache of compiled packages, keyed by
// content, so sharing it is safe and fast). It skips the test in -short
// mode and without a go command.
func corpusShared(t *testing.T) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("short: runs the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	var env []string
	for _, name := range []string{"GOROOT", "GOCACHE"} {
		out, err := exec.Command(goBin, "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		env = append(env, name+"="+strings.TrimSpace(string(out)))
	}
	goroot := strings.TrimPrefix(env[0], "GOROOT=")
	return append(env, "PATH="+filepath.Join(goroot, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// corpusRepo is one fixture unpacked: the repository, its module proxy and
// the go command's environment for it.
type corpusRepo struct {
	dir  string
	env  []string
	r    *gocmd.Runner
	want []string
	// listings is the ListingDir of every Run.
	listings string
}

func runCorpus(t *testing.T, shared []string, kind, file string) {
	cr := unpackCorpus(t, shared, file)
	ctx := context.Background()
	for _, d := range moduleDirs(t, cr.dir) {
		before, _ := os.ReadFile(filepath.Join(d, "go.mod"))
		cr.goCmd(t, d, "mod", "tidy")
		after, _ := os.ReadFile(filepath.Join(d, "go.mod"))
		if string(before) != string(after) {
			t.Fatalf("%s: go mod tidy changed go.mod: the fixture must be tidy\n%s", d, after)
		}
	}
	fs := cr.check(ctx, t, cr.dir)
	cr.checkReuse(ctx, t, fs)
	got := wantLines(t, fs)
	sort.Strings(got)
	sort.Strings(cr.want)
	if *update {
		writeWant(t, file, got)
	} else if diff := cmp.Diff(cr.want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range fs {
		cr.checkPath(t, f)
		if kind == "ok" && f.Severity > finding.Info {
			t.Errorf("ok fixture has %s %s %s", f.Severity, f.Rule, f.Subject)
		}
		if f.Fix != "" {
			t.Run("fix/"+f.Rule+"/"+strings.ReplaceAll(f.File+"/"+f.Subject, "/", "_"), func(t *testing.T) {
				cr.verifyFix(ctx, t, f)
			})
		}
	}
}

// unpackCorpus writes the fixture's repository and proxy to disk and
// starts the proxy.
func unpackCorpus(t *testing.T, shared []string, file string) *corpusRepo {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	cr := &corpusRepo{dir: filepath.Join(tmp, "repo")}
	proxy := filepath.Join(tmp, "proxy")
	for _, f := range ar.Files {
		var p string
		switch {
		case f.Name == "want":
			cr.want = nonEmptyLines(string(f.Data))
			continue
		case strings.HasPrefix(f.Name, ".gomodproxy/"):
			p = filepath.Join(proxy, filepath.FromSlash(strings.TrimPrefix(f.Name, ".gomodproxy/")))
		default:
			p = filepath.Join(cr.dir, filepath.FromSlash(f.Name))
		}
		writeFile(t, p, f.Data)
	}
	srv, err := goproxytest.NewServer(proxy, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cr.listings = filepath.Join(tmp, "listings")
	home, err := testenv.HomeVars(filepath.Join(tmp, "home"))
	if err != nil {
		t.Fatal(err)
	}
	cr.env = append(append(shared, home...),
		"GOPROXY="+srv.URL, "GONOSUMDB="+strings.Join(servedPaths(t, proxy), ","),
		"GOFLAGS=-modcacherw", "GOTOOLCHAIN=local", "GOTELEMETRY=off", "GOENV=off",
		"GOPATH="+filepath.Join(tmp, "gopath"), "GOMODCACHE="+filepath.Join(tmp, "gopath", "pkg", "mod"))
	cr.r = &gocmd.Runner{Env: cr.env}
	return cr
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// servedPaths lists the module paths the proxy directory serves, so that
// GONOSUMDB names exactly the fixture's own paths.
func servedPaths(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, e := range entries {
		for _, name := range []string{".mod", "go.mod"} {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name(), name)); err == nil {
				if p := modfile.ModulePath(data); p != "" {
					seen[p] = true
				}
				break
			}
		}
	}
	return sortedKeys(seen)
}

// moduleDirs lists the directories below root holding a go.mod.
func moduleDirs(t *testing.T, root string) []string {
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && workspace.Skip(d.Name()) {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" {
			dirs = append(dirs, filepath.Dir(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func (cr *corpusRepo) goCmd(t *testing.T, dir string, args ...string) string {
	t.Helper()
	res, err := cr.r.Do(context.Background(), gocmd.Call{Dir: dir, Args: args})
	if err != nil {
		out := ""
		if res != nil {
			out = string(res.Stdout) + string(res.Stderr)
		}
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return string(res.Stdout)
}

// check runs Run on the repository in dir, online, as check does by
// default.
func (cr *corpusRepo) check(ctx context.Context, t *testing.T, dir string) []finding.Finding {
	t.Helper()
	res := cr.run(ctx, t, dir)
	for _, m := range res.Failed {
		t.Errorf("%s could not be loaded: %v", m.Module.Rel, m.Err)
	}
	for _, n := range res.Notices {
		t.Logf("notice: %s", n)
	}
	return res.Findings
}

// run runs Run on the repository in dir, reusing the package listings of
// earlier runs.
func (cr *corpusRepo) run(ctx context.Context, t *testing.T, dir string) *Result {
	t.Helper()
	ws, err := workspace.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, cr.r, ws, Options{Concurrency: 2, ListingDir: cr.listings})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// checkReuse runs Run again after the first run, which found fs: every
// module listed without error must now be reused, and the findings must
// be the same.
func (cr *corpusRepo) checkReuse(ctx context.Context, t *testing.T, fs []finding.Finding) {
	t.Helper()
	res := cr.run(ctx, t, cr.dir)
	want := 0
	for _, g := range res.Graphs {
		if g != nil && g.PackagesErr == nil && g.Ambiguous == nil {
			want++
		}
	}
	if res.Reused != want {
		t.Errorf("second run reused the packages of %d modules, want %d", res.Reused, want)
	}
	if diff := cmp.Diff(fs, res.Findings); diff != "" {
		t.Errorf("second run, packages reused: findings differ (-first +second):\n%s", diff)
	}
}

// verifyFix applies f.Fix with sh on a copy of the repository, then checks
// that the modules stay tidy, build and vet, and that f is gone.
func (cr *corpusRepo) verifyFix(ctx context.Context, t *testing.T, f finding.Finding) {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dir, os.DirFS(cr.dir)); err != nil {
		t.Fatal(err)
	}
	sh := exec.CommandContext(ctx, "sh", "-c", f.Fix)
	sh.Dir, sh.Env = dir, cr.env
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("fix %q: %v\n%s", f.Fix, err, out)
	}
	for _, d := range moduleDirs(t, dir) {
		cr.goCmd(t, d, "mod", "tidy", "-diff")
		cr.goCmd(t, d, "vet", "./...")
	}
	for _, g := range cr.check(ctx, t, dir) {
		if g.Fingerprint == f.Fingerprint {
			t.Errorf("after %q the finding is still there: %s %s %s:%d %s", f.Fix, g.Rule, g.Severity, g.File, g.Line, g.Message)
		}
	}
}

// checkPath compares the path of a finding about a linked module with the
// one `go mod why -m` prints for it, each package mapped to the module of
// the build list providing it. (A module that is only in the module graph
// may be reached through a dependency's test importing a package nothing
// links, whose imports the package listing does not hold; its path is the
// module graph's.)
func (cr *corpusRepo) checkPath(t *testing.T, f finding.Finding) {
	t.Helper()
	if len(f.Path) == 0 || strings.Contains(f.Subject, " ") {
		return
	}
	dir := filepath.Join(cr.dir, filepath.FromSlash(path.Dir(f.File)))
	linked := cr.goCmd(t, dir, "list", "-deps", "-test", "-f", "{{with .Module}}{{.Path}}{{end}}", "./...")
	if !slices.Contains(strings.Fields(linked), f.Subject) {
		return
	}
	why := cr.goCmd(t, dir, "mod", "why", "-m", f.Subject)
	if strings.Contains(why, "(main module does not need") {
		return
	}
	mods := strings.Fields(cr.goCmd(t, dir, "list", "-m", "-f", "{{.Path}}", "all"))
	var want []string
	for _, l := range strings.Split(why, "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		pkg, best := strings.TrimSuffix(l, ".test"), ""
		for _, m := range mods {
			if (pkg == m || strings.HasPrefix(pkg, m+"/")) && len(m) > len(best) {
				best = m
			}
		}
		if best != "" && (len(want) == 0 || want[len(want)-1] != best) {
			want = append(want, best)
		}
	}
	if diff := cmp.Diff(want, f.Path); diff != "" {
		t.Errorf("%s %s %s: path differs from go mod why -m (-want +got):\n%s", f.Rule, f.File, f.Subject, diff)
	}
}
