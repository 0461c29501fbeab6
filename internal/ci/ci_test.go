package ci

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func envFunc(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestDetect(t *testing.T) {
	tests := []struct {
		env  []string
		want Platform
	}{
		{nil, Local},
		{[]string{"GITHUB_ACTIONS", "true"}, GitHub},
		{[]string{"GITHUB_ACTIONS", "1"}, Local},
		{[]string{"GITLAB_CI", "true"}, GitLab},
		{[]string{"GITLAB_CI", "true", "PRE_COMMIT", "1"}, PreCommit},
		{[]string{"PRE_COMMIT", "1"}, PreCommit},
	}
	for _, tt := range tests {
		if got := Detect(envFunc(tt.env...)); got != tt.want {
			t.Errorf("Detect(%v) = %v, want %v", tt.env, got, tt.want)
		}
	}
}

func TestCommandEscaping(t *testing.T) {
	var b bytes.Buffer
	err := Annotate(&b, Annotation{Level: "error", File: "a,b:c/go.mod", Line: 12, Title: "MH002 duplicate-major", Message: "100% bad\r\nsecond line"})
	if err != nil {
		t.Fatal(err)
	}
	want := "::error file=a%2Cb%3Ac/go.mod,line=12,endLine=12,title=MH002 duplicate-major::100%25 bad%0D%0Asecond line\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("annotation (-want +got):\n%s", diff)
	}
	b.Reset()
	Annotate(&b, Annotation{Level: "notice", Message: strings.Repeat("é", 3000)})
	msg := strings.TrimSuffix(strings.SplitN(b.String(), "::", 3)[2], "\n")
	if len(msg) > MaxAnnotationMessage || !strings.HasSuffix(msg, "…") {
		t.Errorf("long message not cut: %d bytes", len(msg))
	}
}

func TestMask(t *testing.T) {
	var b bytes.Buffer
	Mask(&b, "s3cr3t")
	MaskURL(&b, "https://acct.blob.core.windows.net/c/b?sv=2020&sig=abc%2Bdef%3D&se=x")
	want := "::add-mask::s3cr3t\n::add-mask::abc+def=\n::add-mask::abc%252Bdef%253D\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("mask (-want +got):\n%s", diff)
	}

	var cmds, out bytes.Buffer
	m := NewMasker(GitHub, &cmds)
	m.Mask("tok")
	m.Mask("tok-longer")
	io.WriteString(m.Writer(&out), "a tok-longer and tok\n")
	if got := out.String(); got != "a *** and ***\n" {
		t.Errorf("redacted = %q", got)
	}
	if got := cmds.String(); got != "::add-mask::tok\n::add-mask::tok-longer\n" {
		t.Errorf("commands = %q", got)
	}
	var none bytes.Buffer
	NewMasker(Local, &none).Mask("tok")
	if none.Len() != 0 {
		t.Errorf("local masker wrote %q", none.String())
	}
}

func TestSecretEnv(t *testing.T) {
	env := []string{"GITHUB_TOKEN=ghs_x", "GITLAB_TOKEN=", "HOME=/h", "AWS_SECRET_ACCESS_KEY=kkkk", "INPUT_GITHUB-TOKEN=tttt", "DB_PASSWORD=pppp", "TOKENS_URL=u",
		"ACTIONS_RUNTIME_TOKEN=runner", "GOPROXY=https://me:s3cret@athens.example|https://proxy.example,direct", "GOSUMDB=sum.example.org https://u:p2@sum.example", "X_TOKEN=abc"}
	got := SecretEnv(env)
	want := []string{"AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "X_TOKEN"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SecretEnv (-want +got):\n%s", diff)
	}
	vals := SecretValues(env)
	if diff := cmp.Diff([]string{"kkkk", "pppp", "ghs_x", "tttt", "s3cret"}, vals); diff != "" {
		t.Errorf("SecretValues (-want +got):\n%s", diff)
	}
}

type fixedRand byte

func (f fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

func TestEnvFileRoundTrip(t *testing.T) {
	var b bytes.Buffer
	e := &EnvFile{W: &b}
	values := [][2]string{
		{"findings", "25"},
		{"multi", "line one\nline two\n"},
		{"empty", ""},
		// A value that tries to close a heredoc and inject a variable.
		{"evil", "x\nghadelimiter_0000\nINJECTED=yes\nEOF\nINJECTED<<EOF\nyes\nEOF"},
		{"equals", "a=b<<c"},
	}
	for _, v := range values {
		if err := e.Set(v[0], v[1]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ParseEnvFile(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(values, got); diff != "" {
		t.Errorf("parsed back (-want +got):\n%s\nfile:\n%s", diff, b.String())
	}
	for _, kv := range got {
		if kv[0] == "INJECTED" {
			t.Errorf("value injected a variable")
		}
	}
}

func TestEnvFileRefusesDelimiter(t *testing.T) {
	var b bytes.Buffer
	e := &EnvFile{W: &b, Rand: fixedRand(0)}
	delim := "ghadelimiter_" + strings.Repeat("00", 16)
	err := e.Set("out", "before\n"+delim+"\nINJECTED=yes")
	if !errors.Is(err, ErrDelimiterInValue) {
		t.Fatalf("Set = %v, want ErrDelimiterInValue", err)
	}
	if b.Len() != 0 {
		t.Errorf("wrote %q after refusing", b.String())
	}
	for _, name := range []string{"", "a=b", "a\nb", "a<<b"} {
		if err := e.Set(name, "v"); err == nil {
			t.Errorf("Set(%q) succeeded", name)
		}
	}
}

// TestFixedDelimiterInjects shows why the delimiter is random: with a fixed
// one, the runner's rules let a value inject a variable.
func TestFixedDelimiterInjects(t *testing.T) {
	file := "out<<EOF\nx\nEOF\nINJECTED=yes\n"
	got, _ := ParseEnvFile(file)
	found := false
	for _, kv := range got {
		found = found || kv[0] == "INJECTED"
	}
	if !found {
		t.Errorf("parser does not follow the runner's rules: %v", got)
	}
}

func TestParseEnvFileErrors(t *testing.T) {
	for _, in := range []string{"novalue\n", "=x\n", "a<<EOF\nno end\n", "<<EOF\nx\nEOF\n", "a<<\nx\n"} {
		if _, err := ParseEnvFile(in); err == nil {
			t.Errorf("ParseEnvFile(%q) succeeded", in)
		}
	}
	got, err := ParseEnvFile("a=1\r\n\r\nb<<D\r\nv\r\nD\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][2]string{{"a", "1"}, {"b", "v"}}, got); diff != "" {
		t.Errorf("CRLF (-want +got):\n%s", diff)
	}
}

func TestParseDiff(t *testing.T) {
	diff := `diff --git a/go.mod b/go.mod
index 1..2 100644
--- a/go.mod
+++ b/go.mod
@@ -3,0 +4,2 @@ require (
+	example.com/a v1.0.0
+	example.com/b v1.0.0
@@ -9 +11 @@
-old
+new
diff --git a/gone.txt b/gone.txt
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-x
diff --git a/svc/go.sum b/svc/go.sum
--- a/svc/go.sum
+++ b/svc/go.sum
@@ -5 +4,0 @@
-removed
diff --git "a/sp ace/go.mod" "b/sp ace/go.mod"
--- "a/sp ace/go.mod"
+++ "b/sp ace/go.mod"
@@ -0,0 +1 @@
+module x
`
	c := ParseDiff([]byte(diff))
	want := Changes{
		"go.mod":        {{4, 5}, {11, 11}},
		"svc/go.sum":    nil,
		"sp ace/go.mod": {{1, 1}},
	}
	if d := cmp.Diff(want, c); d != "" {
		t.Errorf("ParseDiff (-want +got):\n%s", d)
	}
	for _, tt := range []struct {
		file string
		line int
		want bool
	}{
		{"go.mod", 3, false}, {"go.mod", 4, true}, {"go.mod", 5, true}, {"go.mod", 6, false},
		{"go.mod", 11, true}, {"go.mod", 0, true}, {"svc/go.sum", 0, true}, {"svc/go.sum", 4, false},
		{"other", 0, false}, {"gone.txt", 1, false},
	} {
		if got := c.Has(tt.file, tt.line); got != tt.want {
			t.Errorf("Has(%s, %d) = %v, want %v", tt.file, tt.line, got, tt.want)
		}
	}
}

func TestReview(t *testing.T) {
	payload := `{"action":"synchronize","number":7,"pull_request":{"number":7,"base":{"sha":"aaa","repo":{"full_name":"o/r"}},"head":{"sha":"bbb","repo":{"full_name":"fork/r"}}}}`
	read := func(p string) ([]byte, error) {
		if p == "/ev.json" {
			return []byte(payload), nil
		}
		return []byte(`{"ref":"refs/heads/main"}`), nil
	}
	r, err := Read(envFunc("GITHUB_ACTIONS", "true", "GITHUB_EVENT_PATH", "/ev.json")).Review(read)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Review{Number: 7, BaseSHA: "aaa", HeadSHA: "bbb", Fork: true}, r); diff != "" {
		t.Errorf("github review (-want +got):\n%s", diff)
	}
	if r, err := Read(envFunc("GITHUB_ACTIONS", "true", "GITHUB_EVENT_PATH", "/push.json")).Review(read); r != nil || err != nil {
		t.Errorf("push event: %v, %v", r, err)
	}
	r, err = Read(envFunc("GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "3", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "base", "CI_COMMIT_SHA", "head")).Review(read)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&Review{Number: 3, BaseSHA: "base", HeadSHA: "head"}, r); diff != "" {
		t.Errorf("gitlab review (-want +got):\n%s", diff)
	}
	if r, _ := Read(envFunc("GITLAB_CI", "true")).Review(read); r != nil {
		t.Errorf("branch pipeline: %v", r)
	}
	if _, err := Read(envFunc("GITLAB_CI", "true", "CI_MERGE_REQUEST_IID", "x")).Review(read); err == nil {
		t.Error("bad IID accepted")
	}
}

func TestColor(t *testing.T) {
	var b bytes.Buffer
	if Color(&b, envFunc()) || IsTerminal(&b) {
		t.Error("a buffer is not a terminal")
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// /dev/null is a character device, like a terminal.
	if !Color(f, envFunc()) {
		t.Error("character device: no colour")
	}
	if Color(f, envFunc("NO_COLOR", "1")) || Color(f, envFunc("TERM", "dumb")) {
		t.Error("NO_COLOR or TERM=dumb ignored")
	}
}

func TestDefaultReporters(t *testing.T) {
	if r := DefaultReporters(GitHub); !r.Annotations || !r.Summary || !r.Outputs || r.CodeQuality || r.Note {
		t.Errorf("github: %+v", r)
	}
	if r := DefaultReporters(GitLab); r.Annotations || !r.CodeQuality || !r.Note {
		t.Errorf("gitlab: %+v", r)
	}
	for _, p := range []Platform{Local, PreCommit} {
		if r := DefaultReporters(p); r != (Reporters{}) {
			t.Errorf("%v: %+v", p, r)
		}
	}
}

func TestEnvPolicy(t *testing.T) {
	gh := func(kv ...string) *Env { return ReadEnviron(append([]string{"GITHUB_ACTIONS=true"}, kv...)) }
	for _, tc := range []struct {
		env           *Env
		onPR          bool
		restore, save bool
	}{
		{gh("GITHUB_EVENT_NAME=push"), false, true, true},
		{gh("GITHUB_EVENT_NAME=pull_request"), false, true, false},
		{gh("GITHUB_EVENT_NAME=pull_request"), true, true, true},
		{gh("GITHUB_EVENT_NAME=push", "ACTIONS_CACHE_MODE=read"), false, true, false},
		{gh("GITHUB_EVENT_NAME=push", "ACTIONS_CACHE_MODE=write-only"), false, false, true},
		{gh("GITHUB_EVENT_NAME=push", "ACTIONS_CACHE_MODE=none"), false, false, false},
		{gh("GITHUB_EVENT_NAME=issue_comment"), false, true, false},
		{ReadEnviron([]string{"GITLAB_CI=true"}), false, true, true},
		{ReadEnviron([]string{"GITLAB_CI=true", "CI_COMMIT_REF_PROTECTED=true"}), false, true, true},
		{ReadEnviron(nil), false, true, true},
	} {
		r, _ := tc.env.RestoreAllowed()
		s, _ := tc.env.SaveAllowed(tc.onPR)
		if r != tc.restore || s != tc.save {
			t.Errorf("%+v onPR=%v: restore=%v save=%v, want %v %v", tc.env.GitHub, tc.onPR, r, s, tc.restore, tc.save)
		}
	}
}

func TestInputs(t *testing.T) {
	e := ReadEnviron([]string{"GITHUB_ACTIONS=true", "INPUT_FAIL-ON= error ", "INPUT_WORKING-DIRECTORY=svc"})
	if got := e.Input("fail-on"); got != "error" {
		t.Errorf("fail-on = %q", got)
	}
	if got := e.Input("working-directory"); got != "svc" {
		t.Errorf("working-directory = %q", got)
	}
	if got := ReadEnviron(nil).Input("fail-on"); got != "" {
		t.Errorf("an input that is not set: %q", got)
	}
}

func TestBuildCacheSaveAllowed(t *testing.T) {
	for _, c := range []struct {
		env     []string
		def     string
		allowed bool
	}{
		{nil, "", true},
		{[]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=push", "GITHUB_REF=refs/heads/main", "GITHUB_REF_PROTECTED=true"}, "", true},
		{[]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=push", "GITHUB_REF=refs/heads/main"}, "main", true},
		{[]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=push", "GITHUB_REF=refs/heads/topic"}, "main", false},
		{[]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request", "GITHUB_REF=refs/pull/1/merge", "GITHUB_REF_PROTECTED=true"}, "main", false},
		{[]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request_target", "GITHUB_REF=refs/heads/main"}, "main", false},
		{[]string{"GITLAB_CI=true", "CI_COMMIT_REF_PROTECTED=true"}, "", true},
		{[]string{"GITLAB_CI=true", "CI_COMMIT_REF_PROTECTED=false", "CI_COMMIT_REF_NAME=topic"}, "", false},
	} {
		got, why := ReadEnviron(c.env).BuildCacheSaveAllowed(c.def)
		if got != c.allowed || (got == (why != "")) {
			t.Errorf("%v (default branch %q): %v %q, want %v", c.env, c.def, got, why, c.allowed)
		}
	}
}

func TestEventDefaultBranch(t *testing.T) {
	read := func(string) ([]byte, error) { return []byte(`{"repository":{"default_branch":"trunk"}}`), nil }
	e := ReadEnviron([]string{"GITHUB_ACTIONS=true", "GITHUB_EVENT_PATH=/ev.json"})
	if got := e.EventDefaultBranch(read); got != "trunk" {
		t.Errorf("default branch = %q", got)
	}
	if got := ReadEnviron(nil).EventDefaultBranch(read); got != "" {
		t.Errorf("outside GitHub: %q", got)
	}
}
