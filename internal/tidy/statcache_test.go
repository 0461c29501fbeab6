package tidy

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// ageTree sets every file's times an hour back, past recentCutoff.
func ageTree(t *testing.T, root string) {
	t.Helper()
	old := time.Now().Add(-time.Hour)
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().Type()&os.ModeSymlink == 0 {
			os.Chtimes(p, old, old)
		}
		return nil
	})
}

func TestStatCacheReadsOnlyChangedFiles(t *testing.T) {
	root, memo := t.TempDir(), t.TempDir()
	writeTree(t, root, keyTree)
	ageTree(t, root)

	c := openStatCache(memo)
	want := appKey(t, root, "app", keyEnv, c)
	if c.reads.Load() == 0 {
		t.Fatal("first run read nothing")
	}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}

	// A new run on the saved cache reads no file at all.
	c = openStatCache(memo)
	if got := appKey(t, root, "app", keyEnv, c); got != want {
		t.Fatalf("key changed with the stat cache")
	}
	if n := c.reads.Load(); n != 0 {
		t.Errorf("unchanged tree: %d files read, want 0", n)
	}

	// Same size, same modification time, new content: the change time
	// and the stamp differ, so the file is read again and the key changes.
	p := filepath.Join(root, "app", "sub", "s.go")
	fi, _ := os.Stat(p)
	if err := os.WriteFile(p, []byte("package sub\n\nimport \"stringz\"\n\nvar _ = strings.ToUpper\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(p, fi.ModTime(), fi.ModTime())
	time.Sleep(10 * time.Millisecond)
	c = openStatCache(memo)
	if got := appKey(t, root, "app", keyEnv, c); got == want {
		t.Error("key unchanged after a same-size rewrite with the old mtime")
	}
	if n := c.reads.Load(); n != 1 {
		t.Errorf("%d files read, want 1", n)
	}
}

func TestStatCacheSkipsRecentFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"m/go.mod": "module m\n", "m/a.go": "package a\n"})
	c := openStatCache("")
	appKey(t, root, "m", keyEnv, c)
	appKey(t, root, "m", keyEnv, c)
	// go.mod and a.go were just written: read on both runs (go.sum is absent).
	if n := c.reads.Load(); n != 4 {
		t.Errorf("%d reads, want 4: files younger than %v are never cached", n, recentCutoff)
	}
}

func TestStatCachePrunesUnused(t *testing.T) {
	dir := t.TempDir()
	c := openStatCache(dir)
	now := c.now.Unix() / 86400
	c.entries["/old"] = statEntry{used: now - 31}
	c.entries["/new"] = statEntry{used: now - 1}
	c.dirty = true
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	c = openStatCache(dir)
	if _, ok := c.entries["/old"]; ok {
		t.Error("entry unused for 31 days kept")
	}
	if _, ok := c.entries["/new"]; !ok {
		t.Error("entry used yesterday dropped")
	}
}

func TestStatCacheIgnoresGarbage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, statCacheFile), []byte("garbage\nx y z\n"+string(make([]byte, 100))), 0o644)
	if c := openStatCache(dir); len(c.entries) != 0 {
		t.Errorf("entries from garbage: %v", c.entries)
	}
}
