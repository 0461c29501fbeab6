package tidy

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/modhygiene/modhygiene/internal/gocmd"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// check runs `go mod tidy -diff`, which writes nothing.
func (t *tidier) check(ctx context.Context, m *workspace.Module) Result {
	res, err := t.r.Do(ctx, gocmd.Call{Dir: m.Dir, Args: []string{"mod", "tidy", "-diff"}, Env: t.env})
	if err == nil {
		return Result{Status: Tidy}
	}
	var ge *gocmd.Error
	if res != nil && errors.As(err, &ge) && ge.Kind != gocmd.Canceled && looksLikeDiff(res.Stdout) {
		return Result{Status: Untidy, Diff: string(res.Stdout)}
	}
	return Result{Status: Failed, Err: err}
}

// looksLikeDiff reports whether out is the diff `go mod tidy -diff` prints
// for an untidy module (as opposed to nothing, when tidy itself failed).
func looksLikeDiff(out []byte) bool {
	return bytes.HasPrefix(out, []byte("diff ")) || bytes.HasPrefix(out, []byte("--- "))
}

// fix runs `go mod tidy -modfile` on copies of go.mod and go.sum next to the
// originals and renames the copies into place only when tidy succeeded and
// changed something. A failure leaves go.mod and go.sum untouched.
func (t *tidier) fix(ctx context.Context, m *workspace.Module) Result {
	orig, err := readPair(m.Dir)
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	base, err := tempBase(m.Dir)
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	defer os.Remove(base + ".mod")
	defer os.Remove(base + ".sum")
	if err := orig.writeTo(base); err != nil {
		return Result{Status: Failed, Err: err}
	}
	args := []string{"mod", "tidy", "-modfile=" + base + ".mod"}
	if _, err := t.r.Do(ctx, gocmd.Call{Dir: m.Dir, Args: args, Env: t.env}); err != nil {
		return Result{Status: Failed, Err: err}
	}
	tidied, err := readFiles(base+".mod", base+".sum")
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	if orig.equal(tidied) {
		return Result{Status: Tidy}
	}
	if err := tidied.install(base, m.Dir, orig.mode); err != nil {
		return Result{Status: Failed, Err: err}
	}
	return Result{Status: Fixed, Diff: orig.diff(tidied)}
}

// pair is the content of a go.mod and its go.sum (sum is nil when absent).
type pair struct {
	mod, sum []byte
	mode     fs.FileMode
}

func readPair(dir string) (pair, error) {
	p, err := readFiles(filepath.Join(dir, "go.mod"), filepath.Join(dir, "go.sum"))
	if err != nil {
		return p, err
	}
	if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		p.mode = fi.Mode().Perm()
	}
	return p, nil
}

func readFiles(modPath, sumPath string) (pair, error) {
	var p pair
	var err error
	if p.mod, err = os.ReadFile(modPath); err != nil {
		return p, err
	}
	p.sum, err = os.ReadFile(sumPath)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	return p, err
}

func (p pair) writeTo(base string) error {
	if err := os.WriteFile(base+".mod", p.mod, 0o644); err != nil {
		return err
	}
	if p.sum == nil {
		return nil
	}
	return os.WriteFile(base+".sum", p.sum, 0o644)
}

func (p pair) equal(q pair) bool {
	return bytes.Equal(p.mod, q.mod) && bytes.Equal(p.sum, q.sum)
}

// install renames the tidied copies at base over go.sum and go.mod, each
// replaced atomically; go.sum goes first so that a crash between the two
// renames leaves an old go.mod whose checksums are all present.
func (p pair) install(base, dir string, mode fs.FileMode) error {
	if mode == 0 {
		mode = 0o644
	}
	if p.sum != nil {
		if err := os.Chmod(base+".sum", mode); err != nil {
			return err
		}
		if err := os.Rename(base+".sum", filepath.Join(dir, "go.sum")); err != nil {
			return err
		}
	}
	if err := os.Chmod(base+".mod", mode); err != nil {
		return err
	}
	return os.Rename(base+".mod", filepath.Join(dir, "go.mod"))
}

func (p pair) diff(q pair) string {
	var b bytes.Buffer
	b.Write(diff.Diff("current/go.mod", p.mod, "tidy/go.mod", q.mod))
	b.Write(diff.Diff("current/go.sum", p.sum, "tidy/go.sum", q.sum))
	return b.String()
}

// tempBase returns a fresh name in dir for the copies tidy works on.
func tempBase(dir string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	return filepath.Join(dir, ".modhygiene-tidy-"+hex.EncodeToString(b[:])), nil
}
