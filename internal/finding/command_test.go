package finding

import (
	"os/exec"
	"path/filepath"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"go", "go"},
		{"golang.org/x/text@v0.3.7", "golang.org/x/text@v0.3.7"},
		{"", "''"},
		{"a b", "'a b'"},
		{"x$(touch PWNED)", "'x$(touch PWNED)'"},
		{"it's", `'it'\''s'`},
		{"`id`", "'`id`'"},
		{"a\nb", "'a\nb'"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestQuoteInShell runs quoted arguments through a real shell: each must
// come back as the one argument it was, and nothing in it may run.
func TestQuoteInShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	hostile := []string{"x$(touch PWNED)", "`touch PWNED2`", "a'b\"c", "semi;touch PWNED3", "new\nline", "$HOME", "*", "-n"}
	line := InDir(".", Command(append([]string{"printf", "%s\\0"}, hostile...)...))
	out, err := exec.Command(sh, "-c", "cd "+Quote(dir)+" && "+line).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", line, err)
	}
	var got []string
	start := 0
	for i, b := range out {
		if b == 0 {
			got = append(got, string(out[start:i]))
			start = i + 1
		}
	}
	if len(got) != len(hostile) {
		t.Fatalf("got %d arguments %q, want %d", len(got), got, len(hostile))
	}
	for i := range hostile {
		if got[i] != hostile[i] {
			t.Errorf("argument %d = %q, want %q", i, got[i], hostile[i])
		}
	}
	for _, f := range []string{"PWNED", "PWNED2", "PWNED3"} {
		if m, _ := filepath.Glob(filepath.Join(dir, f)); len(m) > 0 {
			t.Errorf("%s was created: quoting let a command run", f)
		}
	}
}

func TestInDir(t *testing.T) {
	if got := InDir("", "go mod tidy"); got != "go mod tidy" {
		t.Errorf("root: %q", got)
	}
	if got, want := InDir("svc/a b", "go mod tidy"), "cd 'svc/a b' && go mod tidy"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
