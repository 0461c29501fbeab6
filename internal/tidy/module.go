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
	"strings"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/modhygiene/modhygiene/internal/fserr"
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
// originals and installs the copies only when tidy succeeded and changed
// something (see install). A failure leaves go.mod and go.sum untouched,
// and the copies are removed whatever happens, cancellation included.
func (t *tidier) fix(ctx context.Context, m *workspace.Module) Result {
	orig, err := readPair(m)
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	base, err := tempBase(m.Dir)
	if err != nil {
		return Result{Status: Failed, Err: err}
	}
	defer removeTemps(base)
	if err := orig.writeTo(base); err != nil {
		return Result{Status: Failed, Err: fmt.Errorf("copy %s: %w", m.GoModFile(), fserr.Bare(err))}
	}
	args := []string{"mod", "tidy", "-modfile=" + base + ".mod"}
	if _, err := t.r.Do(ctx, gocmd.Call{Dir: m.Dir, Args: args, Env: t.env}); err != nil {
		return Result{Status: Failed, Err: hideTemps(err, base)}
	}
	tidied, err := readFiles(base+".mod", base+".sum")
	if err != nil {
		return Result{Status: Failed, Err: fmt.Errorf("read the tidied %s: %w", m.GoModFile(), fserr.Bare(err))}
	}
	tidied.modMode, tidied.sumMode = orig.modMode, orig.sumMode
	if orig.equal(tidied) {
		return Result{Status: Tidy}
	}
	if err := install(m, base, orig, tidied); err != nil {
		return Result{Status: Failed, Err: err}
	}
	return Result{Status: Fixed, Diff: orig.diff(tidied)}
}

// pair is the content of a go.mod and its go.sum (sum is nil when absent).
type pair struct {
	mod, sum         []byte
	modMode, sumMode fs.FileMode
}

// readPair reads m's go.mod and go.sum and their permissions.
func readPair(m *workspace.Module) (pair, error) {
	modPath, sumPath := filepath.Join(m.Dir, "go.mod"), filepath.Join(m.Dir, "go.sum")
	p, err := readFiles(modPath, sumPath)
	if err != nil {
		return p, fmt.Errorf("read %s: %w", m.GoModFile(), fserr.Bare(err))
	}
	p.modMode, p.sumMode = 0o644, 0o644
	if fi, err := os.Stat(modPath); err == nil {
		p.modMode, p.sumMode = fi.Mode().Perm(), fi.Mode().Perm()
	}
	if fi, err := os.Stat(sumPath); err == nil {
		p.sumMode = fi.Mode().Perm()
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

func (p pair) diff(q pair) string {
	var b bytes.Buffer
	b.Write(diff.Diff("current/go.mod", p.mod, "tidy/go.mod", q.mod))
	b.Write(diff.Diff("current/go.sum", p.sum, "tidy/go.sum", q.sum))
	return b.String()
}

// installHook, when set by a test, is called after each step of install
// with the step's name ("union", "mod", "sum").
var installHook func(step string)

// install replaces m's go.mod and go.sum with the tidied pair (the copies
// at base) so that every state a crash can leave behind loads:
//
//  1. go.sum becomes the union of the old and new checksums: the old
//     go.mod finds every checksum it needs;
//  2. go.mod becomes the tidied one, whose checksums are all in the union;
//  3. go.sum becomes the tidied one.
//
// Each file is replaced by a rename in its own directory, which is atomic.
// Errors name m's files, not the copies.
func install(m *workspace.Module, base string, orig, tidied pair) error {
	goMod, goSum := filepath.Join(m.Dir, "go.mod"), filepath.Join(m.Dir, "go.sum")
	if tidied.sum == nil && orig.sum != nil {
		tidied.sum = []byte{} // tidy empties go.sum, it never deletes it
	}
	union := unionSum(orig.sum, tidied.sum)
	if union != nil && (orig.sum == nil || !bytes.Equal(union, orig.sum)) {
		if err := replaceWith(goSum, base+".union", union, tidied.sumMode); err != nil {
			return fmt.Errorf("replace %s: %w", m.GoSumFile(), err)
		}
	}
	step("union")
	if err := replaceWith(goMod, base+".mod", nil, tidied.modMode); err != nil {
		return fmt.Errorf("replace %s: %w", m.GoModFile(), err)
	}
	step("mod")
	if tidied.sum != nil && !bytes.Equal(union, tidied.sum) {
		if err := replaceWith(goSum, base+".sum", tidied.sum, tidied.sumMode); err != nil {
			return fmt.Errorf("replace %s: %w", m.GoSumFile(), err)
		}
	}
	step("sum")
	return nil
}

func step(name string) {
	if installHook != nil {
		installHook(name)
	}
}

// replaceWith renames tmp over dst, first writing data to tmp when data is
// not nil, with the permissions mode. Errors hold no file name.
func replaceWith(dst, tmp string, data []byte, mode fs.FileMode) error {
	if data != nil {
		if err := os.WriteFile(tmp, data, mode); err != nil {
			return fserr.Bare(err)
		}
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fserr.Bare(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fserr.Bare(err)
	}
	return nil
}

// unionSum returns the lines of a followed by those of b that a lacks; nil
// when both are nil.
func unionSum(a, b []byte) []byte {
	if a == nil && b == nil {
		return nil
	}
	out := append([]byte{}, a...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	have := map[string]bool{}
	for l := range bytes.Lines(a) {
		have[strings.TrimSpace(string(l))] = true
	}
	for l := range bytes.Lines(b) {
		if k := strings.TrimSpace(string(l)); k != "" && !have[k] {
			have[k] = true
			out = append(append(out, k...), '\n')
		}
	}
	return out
}

// tempPrefix starts the names of the copies tidy works on; the go command
// ignores files whose names start with a dot.
const tempPrefix = ".modhygiene-tidy-"

// tempBase returns a fresh name in dir for the copies tidy works on.
func tempBase(dir string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	return filepath.Join(dir, tempPrefix+hex.EncodeToString(b[:])), nil
}

// removeTemps removes every copy made under base.
func removeTemps(base string) {
	for _, ext := range []string{".mod", ".sum", ".union"} {
		os.Remove(base + ext)
	}
}

// hideTemps rewrites a go command failure on the copies at base so that it
// names go.mod and go.sum: the copies are gone by the time anyone reads it.
func hideTemps(err error, base string) error {
	var ge *gocmd.Error
	if !errors.As(err, &ge) {
		return err
	}
	r := strings.NewReplacer(base+".mod", "go.mod", base+".sum", "go.sum",
		filepath.Base(base)+".mod", "go.mod", filepath.Base(base)+".sum", "go.sum")
	e := *ge
	e.Args = nil
	for _, a := range ge.Args {
		if !strings.HasPrefix(a, "-modfile=") {
			e.Args = append(e.Args, a)
		}
	}
	e.Stderr = r.Replace(ge.Stderr)
	return &e
}
