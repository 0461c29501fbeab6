package gocmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMergeAndLookup(t *testing.T) {
	base := []string{"A=1", "B=2", "PATH=/bin"}
	got := Merge(base, []string{"B=3", "C=4"})
	if diff := cmp.Diff([]string{"A=1", "PATH=/bin", "B=3", "C=4"}, got); diff != "" {
		t.Errorf("Merge (-want +got):\n%s", diff)
	}
	if v := Lookup(got, "B"); v != "3" {
		t.Errorf("Lookup(B) = %q", v)
	}
	if v := Lookup(got, "MISSING"); v != "" {
		t.Errorf("Lookup(MISSING) = %q", v)
	}
	if diff := cmp.Diff(base, []string{"A=1", "B=2", "PATH=/bin"}); diff != "" {
		t.Errorf("Merge changed its input: %s", diff)
	}
}

func TestClassifyStderr(t *testing.T) {
	for _, tc := range []struct {
		stderr string
		want   Kind
	}{
		{"go: errors parsing go.mod:\ngo.mod:3: unknown directive: bogus", Syntax},
		{"go: example.com/x@v1.0.0: reading https://p.example/x/@v/v1.0.0.mod: 404 Not Found", ModuleNotFound},
		{"go: example.com/x@v1.0.0: unknown revision v1.0.0", ModuleNotFound},
		{"go: module lookup disabled by GOPROXY=off", Network},
		{"dial tcp 10.0.0.1:443: connect: connection refused", Network},
		{"verifying example.com/x@v1.0.0: checksum mismatch", Checksum},
		{"something else went wrong", Exited},
	} {
		if got := classifyStderr(tc.stderr); got != tc.want {
			t.Errorf("classifyStderr(%q) = %v, want %v", tc.stderr, got, tc.want)
		}
	}
}

// fakeGo writes a shell script named go into a new directory and returns a
// Runner whose PATH holds only that directory.
func fakeGo(t *testing.T, script string) *Runner {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go"), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Runner{Env: []string{"PATH=" + dir, "FROM_RUNNER=yes"}}
}

func TestRunUsesOnlyTheGivenEnvironment(t *testing.T) {
	t.Setenv("LEAK_FROM_PROCESS", "leaked")
	r := fakeGo(t, `echo "runner=$FROM_RUNNER call=$FROM_CALL leak=$LEAK_FROM_PROCESS args=$*"`)
	res, err := r.Do(context.Background(), Call{Dir: t.TempDir(), Args: []string{"env", "X"}, Env: []string{"FROM_CALL=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(res.Stdout)), "runner=yes call=1 leak= args=env X"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestRunFailureIsClassifiedWithStderr(t *testing.T) {
	r := fakeGo(t, `echo "go: errors parsing go.mod:" >&2; echo "go.mod:3: bad" >&2; exit 1`)
	res, err := r.Run(context.Background(), t.TempDir(), "mod", "tidy")
	var ge *Error
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if ge.Kind != Syntax || ge.ExitCode != 1 || !strings.Contains(ge.Error(), "go.mod:3: bad") {
		t.Errorf("error = %+v (%v)", ge, ge)
	}
	if res == nil || !strings.Contains(string(res.Stderr), "go.mod:3") {
		t.Errorf("result stderr not kept: %+v", res)
	}
}

func TestRunCancel(t *testing.T) {
	r := fakeGo(t, "exec "+sleepPath(t)+" 30")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := r.Run(ctx, t.TempDir(), "version")
	var ge *Error
	if !errors.As(err, &ge) || ge.Kind != Canceled {
		t.Fatalf("err = %v, want a Canceled *Error", err)
	}
}

func TestRunGoMissing(t *testing.T) {
	r := &Runner{Env: []string{"PATH=" + t.TempDir()}}
	_, err := r.Run(context.Background(), t.TempDir(), "version")
	var ge *Error
	if !errors.As(err, &ge) || ge.Kind != NotInstalled {
		t.Fatalf("err = %v, want a NotInstalled *Error", err)
	}
}

func TestGoEnv(t *testing.T) {
	r := fakeGo(t, `echo '{"GOPROXY": "https://p.example,direct", "GOSUMDB": "sum.example"}'`)
	got, err := r.GoEnv(context.Background(), "", "GOPROXY", "GOSUMDB")
	if err != nil {
		t.Fatal(err)
	}
	if got["GOPROXY"] != "https://p.example,direct" || got["GOSUMDB"] != "sum.example" {
		t.Errorf("GoEnv = %v", got)
	}
}

func sleepPath(t *testing.T) string {
	for _, p := range []string{"/bin/sleep", "/usr/bin/sleep"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("no sleep binary")
	return ""
}

func TestErrorDropsProgress(t *testing.T) {
	stderr := "go: downloading example.com/a v1.0.0\ngo: downloading go1.99.0 (linux/amd64)\ngo: finding module for package example.com/b\n" +
		"go: found example.com/c in example.com/c v1.2.0\n" +
		"go: example.com/app imports\n\texample.com/b: cannot find module providing package example.com/b\n" +
		"go: found packages a (a.go) and b (b.go) in /x"
	e := &Error{Args: []string{"mod", "tidy"}, Stderr: stderr}
	want := "go: example.com/app imports\n\texample.com/b: cannot find module providing package example.com/b\ngo: found packages a (a.go) and b (b.go) in /x"
	if got := e.Reason(); got != want {
		t.Errorf("Reason =\n%s\nwant\n%s", got, want)
	}
	if got := e.Error(); got != "go mod tidy: "+want {
		t.Errorf("Error = %q", got)
	}
	first, rest := e.FirstLine()
	if first != "go: example.com/app imports example.com/b: cannot find module providing package example.com/b" {
		t.Errorf("first = %q", first)
	}
	if rest != "go: found packages a (a.go) and b (b.go) in /x" {
		t.Errorf("rest = %q", rest)
	}
}

func TestSplitFirst(t *testing.T) {
	for _, tc := range []struct{ in, first, rest string }{
		{"go: errors parsing go.mod:\ngo.mod:3: unknown directive: bogus\n", "go: errors parsing go.mod: go.mod:3: unknown directive: bogus", ""},
		{"go: one\ngo: two\n\tthree", "go: one", "go: two\n\tthree"},
		{"single", "single", ""},
		{"go: updates to go.mod needed; to update it:\n\tgo mod tidy", "go: updates to go.mod needed; to update it: go mod tidy", ""},
	} {
		first, rest := SplitFirst(tc.in)
		if first != tc.first || rest != tc.rest {
			t.Errorf("SplitFirst(%q) = %q, %q; want %q, %q", tc.in, first, rest, tc.first, tc.rest)
		}
	}
	// Without stderr the first line is the error that ended the command.
	e := &Error{Args: []string{"version"}, Err: errors.New("signal: killed")}
	if first, _ := e.FirstLine(); first != "signal: killed" {
		t.Errorf("FirstLine without stderr = %q", first)
	}
}
