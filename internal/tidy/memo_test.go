package tidy

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/gocmd/gocmdtest"
)

func fakeKey(c byte) string { return strings.Repeat(string(c), 64) }

func TestMemoExportImport(t *testing.T) {
	m := NewMemo()
	clock := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return clock }
	m.put(fakeKey('a'), "svc/a")
	clock = clock.Add(time.Minute)
	m.put(fakeKey('b'), "svc/a") // svc/a changed and was found tidy again
	m.put(fakeKey('c'), ".")
	blob, err := m.MarshalEntries()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(blob), os.TempDir()) || len(blob) > 400 {
		t.Errorf("blob = %s", blob)
	}

	n := NewMemo()
	added, err := n.Import(blob, "main")
	if err != nil || added != 2 {
		t.Fatalf("Import = %d, %v; want 2 entries (the latest per module)", added, err)
	}
	if _, ok := n.lookup(fakeKey('a')); ok {
		t.Error("an entry superseded in its module was exported")
	}
	e, ok := n.lookup(fakeKey('b'))
	if !ok || e.From != "main" || e.Module != "svc/a" {
		t.Errorf("lookup(b) = %+v, %v", e, ok)
	}
	// Importing again adds nothing; an export never carries the label.
	if added, _ := n.Import(blob, "other"); added != 0 {
		t.Errorf("second Import added %d", added)
	}
	again, _ := n.MarshalEntries()
	if strings.Contains(string(again), "main") {
		t.Errorf("export carries the import label: %s", again)
	}
}

func TestMemoImportRefusesBadBlobs(t *testing.T) {
	entry := func(k, mod string) string {
		b, _ := json.Marshal(memoBlob{Format: memoFormat, Entries: []memoEntry{{Key: k, Module: mod, Seen: 1}}})
		return string(b)
	}
	for name, blob := range map[string]string{
		"garbage":         "not json",
		"wrong format":    `{"format":"modhygiene-tidy-memo/2","entries":[]}`,
		"unknown field":   `{"format":"` + memoFormat + `","entries":[],"extra":1}`,
		"short key":       entry("abc", "svc"),
		"non-hex key":     entry(strings.Repeat("z", 64), "svc"),
		"absolute module": entry(fakeKey('a'), "/etc"),
		"escaping module": entry(fakeKey('a'), "../x"),
		"unclean module":  entry(fakeKey('a'), "a/../b"),
		"empty module":    entry(fakeKey('a'), ""),
		"too big":         `{"format":"` + memoFormat + `","entries":[` + strings.Repeat(" ", maxMemoBlob) + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := NewMemo()
			m.put(fakeKey('f'), "keep")
			if _, err := m.Import([]byte(blob), "main"); err == nil {
				t.Error("Import accepted it")
			}
			if m.Len() != 1 {
				t.Errorf("memo has %d entries after a refused import, want 1", m.Len())
			}
		})
	}
}

func TestMemoSaveOpen(t *testing.T) {
	dir := t.TempDir()
	// A legacy entry file, from the memo's earlier format, is removed.
	os.WriteFile(filepath.Join(dir, fakeKey('0')), nil, 0o644)
	m, err := OpenMemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	m.put(fakeKey('a'), "a")
	// Another process saves meanwhile: its entry is kept.
	other, _ := OpenMemo(dir)
	other.put(fakeKey('b'), "b")
	if err := other.Save(); err != nil {
		t.Fatal(err)
	}
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	m, err = OpenMemo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{fakeKey('a'), fakeKey('b')} {
		if _, ok := m.lookup(k); !ok {
			t.Errorf("entry %s lost", k[:4])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, fakeKey('0'))); err == nil {
		t.Error("legacy entry file kept")
	}
	// A corrupt memo file is an empty memo and an error to warn about.
	os.WriteFile(filepath.Join(dir, memoFile), []byte("{"), 0o644)
	m, err = OpenMemo(dir)
	if err == nil || m == nil || m.Len() != 0 {
		t.Errorf("OpenMemo(corrupt) = %v entries, %v", m.Len(), err)
	}
}

func TestMemoPrunes(t *testing.T) {
	m := NewMemo()
	m.dir = t.TempDir()
	now := time.Unix(1_700_000_000, 0)
	m.now = func() time.Time { return now }
	for i := range keepPerModule + 3 {
		m.entries[fakeKey(byte('a'+i))] = memoEntry{Key: fakeKey(byte('a' + i)), Module: "svc", Seen: now.Unix() - int64(i)}
	}
	m.entries[fakeKey('z')] = memoEntry{Key: fakeKey('z'), Module: "old", Seen: now.Add(-staleAfter - time.Hour).Unix()}
	got := m.pruned()
	if len(got) != keepPerModule {
		t.Errorf("kept %d entries, want the %d newest of svc", len(got), keepPerModule)
	}
	for _, e := range got {
		if e.Module == "old" || e.Seen < now.Unix()-int64(keepPerModule-1) {
			t.Errorf("kept %+v", e)
		}
	}
}

func TestSummaryString(t *testing.T) {
	rs := []Result{{Memo: true, MemoFrom: "main"}, {Memo: true, MemoFrom: "main"}, {Status: Untidy}}
	if got := Summarize(rs).String(); got != "1 of 3 modules checked, 2 unchanged since main" {
		t.Errorf("got %q", got)
	}
	rs = []Result{{Memo: true}, {Status: Failed}}
	s := Summarize(rs)
	if got := s.String(); got != "1 of 2 modules checked, 1 unchanged since the last run" {
		t.Errorf("got %q", got)
	}
	if s.Failed != 1 || s.Checked != 1 {
		t.Errorf("summary = %+v", s)
	}
}

// TestMemoAcrossCheckouts simulates two CI runs: the first checks every
// module of a monorepo and exports the memo; the second, in another
// checkout (another path, new inodes and times) with an empty memo
// directory and module cache, imports it after one module changed, starts
// exactly one `go mod tidy` and reports the others unchanged since the
// label given to Import.
func TestMemoAcrossCheckouts(t *testing.T) {
	proxy := fixtureProxy(t)
	setup := goRunner(t, proxy, "")
	first := filepath.Join(t.TempDir(), "checkout1")
	tidyRepo(t, setup, first, repoTree)

	memo1, _ := OpenMemo(t.TempDir())
	results, err := Run(context.Background(), goRunner(t, proxy, ""), discover(t, first), Options{Memo: memo1})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{".": "tidy", "a": "tidy", "b": "tidy", "c": "tidy"}
	if diff := cmp.Diff(want, statuses(results)); diff != "" {
		t.Fatalf("first run (-want +got):\n%s", diff)
	}
	blob, err := memo1.MarshalEntries()
	if err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, change map[string]string) (map[string]string, *gocmdtest.Recorder, Summary) {
		second := filepath.Join(t.TempDir(), "checkout2")
		copyTree(t, first, second)
		writeTree(t, second, change)
		memo2, _ := OpenMemo(t.TempDir())
		if _, err := memo2.Import(blob, "main"); err != nil {
			t.Fatal(err)
		}
		rec := gocmdtest.Wrap(t)
		results, err := Run(context.Background(), goRunner(t, proxy, rec.Go), discover(t, second), Options{Memo: memo2})
		if err != nil {
			t.Fatal(err)
		}
		return statuses(results), rec, Summarize(results)
	}

	t.Run("one leaf module changed", func(t *testing.T) {
		got, rec, sum := run(t, map[string]string{"b/b.go": "package b\n\nimport (\n\t_ \"example.com/dep2\"\n\t_ \"example.com/root\"\n)\n"})
		want := map[string]string{".": "tidy (memo from main)", "a": "tidy (memo from main)", "b": "untidy", "c": "tidy (memo from main)"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("second run (-want +got):\n%s", diff)
		}
		if n := rec.Count("mod tidy"); n != 1 {
			t.Errorf("%d go mod tidy processes, want 1: %q", n, rec.Calls())
		}
		if s := sum.String(); s != "1 of 4 modules checked, 3 unchanged since main" {
			t.Errorf("summary %q", s)
		}
	})
	t.Run("replaced root changed", func(t *testing.T) {
		// The root's imports are read by every module that replaces it.
		got, rec, _ := run(t, map[string]string{"root.go": "package root\n\nimport (\n\t_ \"example.com/dep\"\n\t_ \"example.com/dep2\"\n)\n"})
		want := map[string]string{".": "untidy", "a": "untidy", "b": "untidy", "c": "untidy"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("second run (-want +got):\n%s", diff)
		}
		if n := rec.Count("mod tidy"); n != 4 {
			t.Errorf("%d go mod tidy processes, want 4", n)
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		_, rec, sum := run(t, nil)
		if n := rec.Count("mod tidy"); n != 0 || sum.Unchanged != 4 {
			t.Errorf("%d go mod tidy processes and %d unchanged, want 0 and 4", n, sum.Unchanged)
		}
	})
}
