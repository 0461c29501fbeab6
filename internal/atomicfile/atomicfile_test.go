package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "file")
	if err := Write(p, "", ".file.tmp-*", []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, "", ".file.tmp-*", []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(p)
	fi, _ := os.Stat(p)
	if err != nil || string(data) != "two" || fi.Mode().Perm() != 0o600 {
		t.Errorf("read %q, %v, mode %v; want \"two\", 0600", data, err, fi.Mode().Perm())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "a", "b", ".file.tmp-*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

// TestWriteFailureKeepsTheOldFile: a rename onto a directory fails; the
// directory stays and no temporary file is left.
func TestWriteFailureKeepsTheOldFile(t *testing.T) {
	dir := t.TempDir()
	tmp := t.TempDir()
	p := filepath.Join(dir, "d")
	if err := os.MkdirAll(filepath.Join(p, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, tmp, "write-*", []byte("data"), 0o644); err == nil {
		t.Fatal("a write onto a non-empty directory succeeded")
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Errorf("the directory is gone: %v", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %d", len(left))
	}
}
