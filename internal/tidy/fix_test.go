package tidy

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// untidyPair writes a module whose tidy both removes a requirement (with its
// checksums) and adds one: neither the old go.mod with the new go.sum nor
// the new go.mod with the old go.sum loads.
func untidyPair(t *testing.T, r *gocmd.Runner, root string) string {
	t.Helper()
	dir := filepath.Join(root, "svc")
	tidyRepo(t, r, root, map[string]string{
		"svc/go.mod": "module example.com/svc\n\ngo 1.21\n",
		"svc/svc.go": "package svc\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"example.com/unused\"\n)\n",
	})
	writeTree(t, root, map[string]string{"svc/svc.go": "package svc\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"example.com/dep2\"\n)\n"})
	return dir
}

// loads runs `go list -m all` in dir without network and without changing
// go.mod or go.sum.
func loads(r *gocmd.Runner, dir string) error {
	_, err := r.Do(context.Background(), gocmd.Call{Dir: dir, Args: []string{"list", "-m", "all"},
		Env: []string{"GOFLAGS=-mod=readonly", "GOPROXY=off"}})
	return err
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

// TestFixKilledBetweenSteps kills a `tidy --fix` process with SIGKILL after
// each step of the install and checks that the pair it leaves loads. It
// first checks that the mixed pairs a naive install can leave do not load,
// so that the test can fail.
func TestFixKilledBetweenSteps(t *testing.T) {
	proxy := fixtureProxy(t)
	r := goRunner(t, proxy, "")
	ref := untidyPair(t, r, filepath.Join(t.TempDir(), "ref"))
	oldMod, oldSum := readFile(t, filepath.Join(ref, "go.mod")), readFile(t, filepath.Join(ref, "go.sum"))
	if _, err := r.Run(context.Background(), ref, "mod", "tidy"); err != nil {
		t.Fatal(err)
	}
	newMod, newSum := readFile(t, filepath.Join(ref, "go.mod")), readFile(t, filepath.Join(ref, "go.sum"))
	for name, p := range map[string][2]string{"old go.mod, new go.sum": {oldMod, newSum}, "new go.mod, old go.sum": {newMod, oldSum}} {
		writeTree(t, filepath.Dir(ref), map[string]string{"svc/go.mod": p[0], "svc/go.sum": p[1]})
		if loads(r, ref) == nil {
			t.Fatalf("%s loads: the fixture does not test the order", name)
		}
	}

	envJSON, _ := json.Marshal(r.Env)
	for _, step := range []string{"union", "mod", "sum"} {
		t.Run("killed after "+step, func(t *testing.T) {
			dir := untidyPair(t, r, filepath.Join(t.TempDir(), "repo"))
			cmd := exec.Command(os.Args[0], "-test.run=^TestFixHelperProcess$")
			cmd.Env = append(os.Environ(), "MH_TIDY_FIX_ROOT="+filepath.Dir(dir), "MH_TIDY_KILL_AT="+step, "MH_TIDY_RUNNER_ENV="+string(envJSON))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper was not killed: %v\n%s", err, out)
			}
			if err := loads(r, dir); err != nil {
				t.Errorf("after SIGKILL following step %q the pair does not load: %v\ngo.mod:\n%s\ngo.sum:\n%s", step, err,
					readFile(t, filepath.Join(dir, "go.mod")), readFile(t, filepath.Join(dir, "go.sum")))
			}
			if step == "sum" && (readFile(t, filepath.Join(dir, "go.mod")) != newMod || readFile(t, filepath.Join(dir, "go.sum")) != newSum) {
				t.Error("after the last step the pair is not the tidied one")
			}
		})
	}
}

// TestFixHelperProcess is the process TestFixKilledBetweenSteps kills.
func TestFixHelperProcess(t *testing.T) {
	step := os.Getenv("MH_TIDY_KILL_AT")
	if step == "" {
		t.Skip("run by TestFixKilledBetweenSteps")
	}
	var env []string
	json.Unmarshal([]byte(os.Getenv("MH_TIDY_RUNNER_ENV")), &env)
	installHook = func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		}
	}
	Run(context.Background(), &gocmd.Runner{Env: env}, discover(t, os.Getenv("MH_TIDY_FIX_ROOT")), Options{Fix: true, NoPrefetch: true})
	t.Fatal("not killed")
}

func TestFixRewritesPair(t *testing.T) {
	proxy := fixtureProxy(t)
	r := goRunner(t, proxy, "")
	root := filepath.Join(t.TempDir(), "repo")
	dir := untidyPair(t, r, root)
	os.Chmod(filepath.Join(dir, "go.mod"), 0o600)
	results, err := Run(context.Background(), r, discover(t, root), Options{Fix: true})
	if err != nil {
		t.Fatal(err)
	}
	if res := results[0]; res.Status != Fixed || !strings.Contains(res.Diff, "+\texample.com/dep2 v1.0.0") {
		t.Fatalf("result = %v: %v\n%s", res.Status, res.Err, res.Diff)
	}
	if _, err := r.Run(context.Background(), dir, "mod", "tidy", "-diff"); err != nil {
		t.Errorf("not tidy after --fix: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "go.mod")); fi.Mode().Perm() != 0o600 {
		t.Errorf("go.mod mode %v, want 0600 kept", fi.Mode().Perm())
	}
	assertNoTemps(t, dir)
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestFixErrorNamesUserFiles checks that a tidy that fails on the copies
// reports go.mod, at its line, never the temporary file.
func TestFixErrorNamesUserFiles(t *testing.T) {
	r := goRunner(t, fixtureProxy(t), "")
	root := t.TempDir()
	writeTree(t, root, map[string]string{"svc/go.mod": "module example.com/svc\n\ngo 1.21\n\nbogus directive\n", "svc/s.go": "package svc\n"})
	for _, fix := range []bool{false, true} {
		results, err := Run(context.Background(), r, discover(t, root), Options{Fix: fix})
		if err != nil {
			t.Fatal(err)
		}
		res := results[0]
		if res.Status != Failed {
			t.Fatalf("fix=%v: status %v", fix, res.Status)
		}
		f := res.Failure()
		for _, s := range []string{res.Err.Error(), f.Message, f.Detail, res.FailureMessage()} {
			if strings.Contains(s, tempPrefix) {
				t.Errorf("fix=%v: message names a temporary file: %s", fix, s)
			}
		}
		if f.Rule != "MH000" || f.File != "svc/go.mod" || f.Line != 5 || f.Subject != "tidy" ||
			f.Message != "tidy could not run: go: errors parsing go.mod: svc/go.mod:5: unknown directive: bogus" {
			t.Errorf("fix=%v: finding = %+v", fix, f)
		}
		assertNoTemps(t, filepath.Join(root, "svc"))
	}
}

// TestFixCancelRemovesTemps cancels a run while the go command works on the
// copies: the copies are removed before Run returns.
func TestFixCancelRemovesTemps(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep")
	}
	bin := filepath.Join(t.TempDir(), "go")
	os.WriteFile(bin, []byte("#!/bin/sh\ncase \"$1\" in env) echo '{}';; *) exec "+sleep+" 30;; esac\n"), 0o755)
	root := t.TempDir()
	writeTree(t, root, map[string]string{"svc/go.mod": "module example.com/svc\n\ngo 1.21\n", "svc/go.sum": "", "svc/s.go": "package svc\n"})
	dir := filepath.Join(root, "svc")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if left, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*")); len(left) > 0 {
				cancel()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	results, err := Run(ctx, &gocmd.Runner{Go: bin, Env: []string{"PATH=/usr/bin:/bin"}}, discover(t, root), Options{Fix: true, NoPrefetch: true})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run error = %v, want context.Canceled", err)
	}
	if results[0].Status != Failed {
		t.Errorf("status = %v", results[0].Status)
	}
	assertNoTemps(t, dir)
}
