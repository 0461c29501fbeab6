package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/goproxytest"
	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/mod/modfile"
	"golang.org/x/tools/txtar"

	"github.com/modhygiene/modhygiene/internal/cli"
	"github.com/modhygiene/modhygiene/internal/testenv"
)

// TestMain lets testscript run the real modhygiene binary: the test binary
// re-executes itself as "modhygiene" inside scripts. The exit code is also
// written to $MH_STATUS_FILE for the "status" command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"modhygiene": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			cwd, _ := os.Getwd()
			// os.Args[0] is the script's own copy of the command, which
			// runs modhygiene again (os.Executable is the test binary).
			code := cli.Main(ctx, cli.Invocation{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
				Env: os.Environ(), Dir: cwd, Self: os.Args[0]})
			stop()
			if f := os.Getenv("MH_STATUS_FILE"); f != "" {
				os.WriteFile(f, []byte(strconv.Itoa(code)), 0o644)
			}
			os.Exit(code)
		},
	})
}

// TestScript runs testdata/script/*.txtar. Modules come from a local proxy
// serving testdata/mod (or a script's own .gomodproxy directory); nothing
// reaches the network.
func TestScript(t *testing.T) {
	srv := goproxytest.NewTestServer(t, filepath.Join("..", "..", "testdata", "mod"), "")
	testscript.Run(t, scriptParams(t, srv.URL, filepath.Join("..", "..", "testdata", "mod")))
}

// TestFaults runs testdata/faults/*.txtar: one script per injected fault
// (a poisoned or hung store, hostile text from outside, a signal at the
// wrong moment), so that the whole fault matrix reruns at once with
// -run TestFaults.
func TestFaults(t *testing.T) {
	srv := goproxytest.NewTestServer(t, filepath.Join("..", "..", "testdata", "mod"), "")
	p := scriptParams(t, srv.URL, filepath.Join("..", "..", "testdata", "mod"))
	p.Dir = filepath.Join("..", "..", "testdata", "faults")
	testscript.Run(t, p)
}

func scriptParams(t *testing.T, proxyURL, corpus string) testscript.Params {
	gocache := goEnv(t, "GOCACHE")
	goroot := goEnv(t, "GOROOT")
	return testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			proxy, paths := proxyURL, fixturePaths(t, corpus)
			own := filepath.Join(env.WorkDir, goproxytest.GoModProxyDir)
			if fi, err := os.Stat(own); err == nil && fi.IsDir() {
				s, err := goproxytest.NewServer(own, "")
				if err != nil {
					return err
				}
				env.Defer(s.Close)
				proxy, paths = s.URL, fixturePaths(t, own)
			}
			work := env.WorkDir
			home, err := testenv.HomeVars(filepath.Join(work, ".home"))
			if err != nil {
				return err
			}
			env.Vars = append(env.Vars, home...)
			env.Vars = append(env.Vars,
				"GOPROXY="+proxy,
				"MH_TEST_PROXY="+proxy,
				"GONOSUMDB="+strings.Join(paths, ","),
				"GOFLAGS=-mod=mod",
				"GOTOOLCHAIN=local",
				"GOROOT="+goroot,
				"PATH="+filepath.Join(goroot, "bin")+string(os.PathListSeparator)+env.Getenv("PATH"),
				"GOPATH="+filepath.Join(work, ".gopath"),
				"GOMODCACHE="+filepath.Join(work, ".gopath", "pkg", "mod"),
				"GOCACHE="+gocache,
				"XDG_CACHE_HOME="+filepath.Join(work, ".cache"),
				"MH_STATUS_FILE="+filepath.Join(work, ".status"),
				"NO_COLOR=1",
			)
			for _, setup := range scriptSetups {
				if err := setup(env); err != nil {
					return err
				}
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":    cmdStatus,
			"snapshot":  cmdSnapshot,
			"unchanged": cmdUnchanged,
			"envfile":   cmdEnvFile,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "online":
				return os.Getenv("MODHYGIENE_ONLINE") != "", nil
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	}
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// fixturePaths lists the module paths served from a goproxytest directory,
// so that GONOSUMDB names exactly the fixtures' own paths.
func fixturePaths(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range entries {
		if e.IsDir() {
			// A module as a directory (path_vers/.mod or go.mod), the form
			// a script's own .gomodproxy uses.
			for _, name := range []string{".mod", "go.mod"} {
				if data, err := os.ReadFile(filepath.Join(dir, e.Name(), name)); err == nil {
					if p := modfile.ModulePath(data); p != "" {
						seen[p] = true
					}
					break
				}
			}
			continue
		}
		if !(strings.HasSuffix(e.Name(), ".txtar") || strings.HasSuffix(e.Name(), ".txt")) {
			continue
		}
		a, err := txtar.ParseFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range a.Files {
			if f.Name == ".mod" || f.Name == "go.mod" {
				if p := modfile.ModulePath(f.Data); p != "" {
					seen[p] = true
				}
				break
			}
		}
	}
	var paths []string
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// status N asserts the exit code of the last modhygiene command.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: status N")
	}
	data, err := os.ReadFile(ts.MkAbs(".status"))
	ts.Check(err)
	got := strings.TrimSpace(string(data))
	if got != args[0] {
		ts.Fatalf("modhygiene exited %s, want %s", got, args[0])
	}
}

// snapshot DIR records a hash of every file below DIR (modes included).
func cmdSnapshot(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: snapshot DIR")
	}
	ts.Check(os.WriteFile(ts.MkAbs(".snapshot-"+sanitize(args[0])), treeHash(ts, args[0]), 0o644))
}

// unchanged DIR asserts that no file below DIR changed since snapshot DIR.
func cmdUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] unchanged DIR")
	}
	want, err := os.ReadFile(ts.MkAbs(".snapshot-" + sanitize(args[0])))
	ts.Check(err)
	same := bytes.Equal(want, treeHash(ts, args[0]))
	if same == neg {
		ts.Fatalf("files below %s: unchanged=%v, want %v\nbefore:\n%s\nafter:\n%s", args[0], same, !neg, want, treeHash(ts, args[0]))
	}
}

func sanitize(s string) string { return strings.NewReplacer("/", "_", ".", "_").Replace(s) }

func treeHash(ts *testscript.TestScript, dir string) []byte {
	root := ts.MkAbs(dir)
	var b bytes.Buffer
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // the harness's own files (.status, .snapshot-*)
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fmt.Fprintf(&b, "%s %v %x\n", filepath.ToSlash(rel), info.Mode(), sha256.Sum256(data))
		return nil
	})
	ts.Check(err)
	return b.Bytes()
}
