package envcheck

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

type got struct {
	Subject  string
	Severity finding.Severity
	Fix      string
}

func summarize(fs []finding.Finding) []got {
	var out []got
	for _, f := range fs {
		if f.Rule != Rule || f.Name != "environment" || f.Fingerprint == "" || f.Message == "" {
			panic("finding not normalized: " + f.Subject)
		}
		out = append(out, got{f.Subject, f.Severity, f.Fix})
	}
	return out
}

func TestFindings(t *testing.T) {
	required := []string{"example.com/app", "github.com/corp/lib", "golang.org/x/mod"}
	tests := []struct {
		name     string
		env      []string
		required []string
		want     []got
	}{
		{name: "clean", env: []string{"GOPROXY=https://proxy.example|direct", "GOPRIVATE=github.com/corp/*"}, required: required},
		{name: "empty", env: nil},
		{name: "sumdb off", env: []string{"GOSUMDB=off"},
			want: []got{{"GOSUMDB", finding.Error, "unset GOSUMDB; go env -u GOSUMDB"}}},
		{name: "sumdb off last wins", env: []string{"GOSUMDB=off", "GOSUMDB=sum.example"}},
		{name: "insecure", env: []string{"GOINSECURE=*.corp", "GONOSUMCHECK=1"},
			want: []got{
				{"GOINSECURE", finding.Error, "unset GOINSECURE; go env -u GOINSECURE"},
				{"GONOSUMCHECK", finding.Warning, "unset GONOSUMCHECK"},
			}},
		{name: "goflags insecure", env: []string{"GOFLAGS=-mod=mod -insecure -trimpath"},
			want: []got{{"GOFLAGS=-insecure", finding.Error, "export GOFLAGS='-mod=mod -trimpath'"}}},
		{name: "goflags fine", env: []string{"GOFLAGS=-mod=mod -modcacherw"}},
		{name: "private star", env: []string{"GOPRIVATE=*"}, required: required,
			want: []got{{"GOPRIVATE=*", finding.Error, "go env -w GOPRIVATE=''"}}},
		{name: "private any host", env: []string{"GOPRIVATE=*.com/*,*.corp.example"}, required: []string{"git.corp.example/x"},
			want: []got{{"GOPRIVATE=*.com/*", finding.Error, "go env -w GOPRIVATE='*.corp.example'"}}},
		{name: "private public host", env: []string{"GOPRIVATE=github.com,github.com/corp"}, required: required,
			want: []got{{"GOPRIVATE=github.com", finding.Warning, "go env -w GOPRIVATE='github.com/corp'"}}},
		{name: "nosumdb host glob", env: []string{"GONOSUMDB=github.com/*"},
			want: []got{{"GONOSUMDB=github.com/*", finding.Warning, "go env -w GONOSUMDB=''"}}},
		{name: "unmatched", env: []string{"GONOSUMDB=git.corp.example,github.com/corp"}, required: required,
			want: []got{{"GONOSUMDB=git.corp.example", finding.Info, "go env -w GONOSUMDB='github.com/corp'"}}},
		{name: "unmatched unknown requirements", env: []string{"GONOSUMDB=git.corp.example"}},
		{name: "nosumdb same as private reported once", env: []string{"GOPRIVATE=*", "GONOSUMDB=*"},
			want: []got{{"GOPRIVATE=*", finding.Error, "go env -w GOPRIVATE=''"}}},
		{name: "proxy direct", env: []string{"GOPROXY=direct"},
			want: []got{{"GOPROXY", finding.Warning, "modhygiene mirrors --export shell"}}},
		{name: "proxy off", env: []string{"GOPROXY=off"},
			want: []got{{"GOPROXY", finding.Info, "modhygiene mirrors --export shell"}}},
		{name: "proxy with direct fallback", env: []string{"GOPROXY=https://a.example,direct"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := summarize(Findings(tt.env, tt.required))
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("Findings(%q) mismatch (-want +got):\n%s", tt.env, diff)
			}
		})
	}
}

func TestFingerprintStable(t *testing.T) {
	a := Findings([]string{"GOSUMDB=off", "GOPRIVATE=*"}, nil)
	b := Findings([]string{"GOPRIVATE=*", "GOSUMDB=off"}, nil)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Error(diff)
	}
}

func TestRequiredPaths(t *testing.T) {
	dir := t.TempDir()
	gomod := "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgolang.org/x/mod v0.20.0\n\tgithub.com/corp/lib v1.0.0 // indirect\n)\n\nreplace golang.org/x/mod => example.com/fork v0.1.0\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	ws, err := workspace.Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"example.com/app", "example.com/fork", "github.com/corp/lib", "golang.org/x/mod"}
	if diff := cmp.Diff(want, RequiredPaths(ws)); diff != "" {
		t.Error(diff)
	}
}

func TestFromGoEnv(t *testing.T) {
	got := FromGoEnv(map[string]string{"GOSUMDB": "off", "GOPROXY": "direct"})
	if diff := cmp.Diff([]string{"GOPROXY=direct", "GOSUMDB=off"}, got); diff != "" {
		t.Error(diff)
	}
}

func TestCollect(t *testing.T) {
	got := Collect(map[string]string{"GOSUMDB": "off", "GONOSUMCHECK": ""}, []string{"GONOSUMCHECK=1", "GOSUMDB=ignored"})
	want := []string{"GONOSUMCHECK=", "GOSUMDB=off", "GONOSUMCHECK=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if fs := Findings(got, nil); len(fs) != 2 {
		t.Errorf("got %d findings, want GOSUMDB and GONOSUMCHECK", len(fs))
	}
}

func TestMatchesAnyHost(t *testing.T) {
	for p, want := range map[string]bool{
		"*": true, "*.*": true, "*/*": true, "**": true, "*.com": true, "*.io/*": true, "corp.*": true,
		"?": true, "[a-z]*": true, " * ": true, "*.co.": true,
		"*.corp.example": false, "git*.corp.example/team": false, "github.com": false, "github.com/*": false,
		"git.corp.example": false, "example.com/*/internal": false, "": false, "mycompany": false,
	} {
		if got := MatchesAnyHost(p); got != want {
			t.Errorf("MatchesAnyHost(%q) = %v, want %v", p, got, want)
		}
	}
}
