package tidy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDiff(t *testing.T) {
	const d = `diff current/go.mod tidy/go.mod
--- current/go.mod
+++ tidy/go.mod
@@ -2,7 +2,5 @@
 
 go 1.21
 
-require (
-	example.com/greet v1.0.0
-	example.com/unused v1.0.0
-)
+require example.com/greet v1.0.0 // indirect

diff current/go.sum tidy/go.sum
--- current/go.sum
+++ tidy/go.sum
@@ -0,0 +1,2 @@
+a v1 h1:x=
+a v1/go.mod h1:y=
`
	cs := ParseDiff(d)
	if len(cs) != 2 || cs[0].Name != "go.mod" || cs[1].Name != "go.sum" {
		t.Fatalf("files = %+v", cs)
	}
	added, removed, marked := cs[0].Net()
	if len(added) != 0 {
		t.Errorf("added = %v", added)
	}
	if diff := cmp.Diff([]DiffLine{{"example.com/unused v1.0.0", 7}}, removed); diff != "" {
		t.Errorf("removed (-want +got):\n%s", diff)
	}
	// The marked requirement points at its own line, not at the line the
	// added text follows.
	if diff := cmp.Diff([]DiffLine{{"example.com/greet v1.0.0 // indirect", 6}}, marked); diff != "" {
		t.Errorf("marked (-want +got):\n%s", diff)
	}
	if got := cs[0].Line(); got != 6 {
		t.Errorf("go.mod line = %d, want 6", got)
	}
	if got := cs[1].Line(); got != 1 {
		t.Errorf("go.sum line = %d, want 1", got)
	}
	if got := cs[1].Summary(); got != "go.sum +2 -0" {
		t.Errorf("summary = %q", got)
	}
}

func TestLooksLikeDiff(t *testing.T) {
	for in, want := range map[string]bool{
		"diff current/go.mod tidy/go.mod\n": true,
		"--- current/go.sum\n":              true,
		"":                                  false,
		"go: errors parsing go.mod":         false,
	} {
		if got := looksLikeDiff([]byte(in)); got != want {
			t.Errorf("looksLikeDiff(%q) = %v, want %v", in, got, want)
		}
	}
}
