package gocmdtest

import (
	"context"
	"os"
	"testing"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/testenv"
)

func TestRecorderCountsProcesses(t *testing.T) {
	r := Wrap(t)
	home, err := testenv.HomeVars(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := &gocmd.Runner{Env: append(home, "PATH="+r.Dir+":"+os.Getenv("PATH"), "GOCACHE="+t.TempDir())}
	for range 2 {
		if _, err := run.Run(context.Background(), t.TempDir(), "env", "GOVERSION"); err != nil {
			t.Fatal(err)
		}
	}
	run.Run(context.Background(), t.TempDir(), "version")
	if n := r.Count("env"); n != 2 {
		t.Errorf("Count(env) = %d, want 2 (calls %q)", n, r.Calls())
	}
	if n := r.Count("version"); n != 1 {
		t.Errorf("Count(version) = %d, want 1", n)
	}
	if n := r.Count("mod tidy"); n != 0 {
		t.Errorf("Count(mod tidy) = %d, want 0", n)
	}
	r.Reset()
	if n := len(r.Calls()); n != 0 {
		t.Errorf("after Reset: %d calls", n)
	}
}
