package report

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/finding"
)

var regenStreams = flag.Bool("regen-streams", false, "rewrite the recorded streams in testdata/streams (then run with -update)")

// recordedRuns are the runs behind testdata/streams. The files are the
// record; this only makes them again when the stream format grows.
func recordedRuns() map[string]*Run {
	hdr := Header{Protocol: Protocol, Tool: "modhygiene", Version: "v0.9.0", Command: "run",
		Modules: []ModuleInfo{{Path: "example.com/app", GoMod: "go.mod"}, {Path: "example.com/app/svc", GoMod: "svc/go.mod"}}}
	stages := []Stage{
		{Name: "mirrors", Duration: 812 * time.Millisecond, Status: "ok", Summary: "goproxy.example first of 3", Outputs: map[string]string{"goproxy": "https://goproxy.example,direct"}},
		{Name: "restore", Duration: 2100 * time.Millisecond, Previous: 9 * time.Second, Status: "ok", Summary: "exact hit", Outputs: map[string]string{"cache-hit": "true"}},
		{Name: "tidy", Duration: 1234 * time.Millisecond, Status: "findings", Summary: "1 of 2 modules untidy"},
		{Name: "check", Duration: 45 * time.Millisecond, Status: "findings"},
	}
	basic := []finding.Finding{
		{Rule: "MH001", Severity: finding.Error, Message: "go mod tidy would change go.mod and go.sum", Module: "example.com/app/svc", File: "svc/go.mod", Fix: "cd svc && go mod tidy",
			Detail: "--- svc/go.mod\n+++ svc/go.mod (tidy)\n@@ -5 +5 @@\n-\tgolang.org/x/text v0.3.0\n+\tgolang.org/x/text v0.3.0 // indirect\n"},
		{Rule: "MH002", Severity: finding.Warning, Message: "gopkg.in/yaml at two major versions: v2 and v3", Module: "example.com/app", File: "go.mod", Line: 7, Subject: "gopkg.in/yaml",
			Path: []string{"example.com/app", "example.com/lib", "gopkg.in/yaml.v2"}, Version: "v2.4.0", Fix: "go get example.com/lib@v1.4.0",
			Other: &finding.Side{Module: "gopkg.in/yaml.v3", Version: "v3.0.1", Path: []string{"example.com/app", "gopkg.in/yaml.v3"}}, Target: "example.com/lib"},
		{Rule: "MH004", Severity: finding.Error, Message: "go.opentelemetry.io/otel family at v1.19.0 and v1.21.0 | mixed", Module: "example.com/app", File: "go.mod", Line: 9, Subject: "go.opentelemetry.io/otel",
			Fix: "go get go.opentelemetry.io/otel@v1.21.0 go.opentelemetry.io/otel/trace@v1.21.0", Existing: true},
		{Rule: "MH009", Severity: finding.Warning, Message: "GOSUMDB=off turns off checksum verification for every module", Subject: "GOSUMDB", Fix: "go env -u GOSUMDB"},
		{Rule: "MH006", Severity: finding.Info, Message: "github.com/golang/mock is deprecated: use go.uber.org/mock <instead>", Module: "example.com/app/svc", File: "svc/go.mod", Line: 4, Subject: "github.com/golang/mock"},
		{Rule: "MH010", Severity: finding.Error, Message: "GO-2024-2611: golang.org/x/net/html: infinite loop, fixed in v0.23.0", Module: "example.com/app", File: "go.mod", Line: 11, Subject: "GO-2024-2611",
			Path: []string{"example.com/app", "golang.org/x/net"}, Version: "v0.22.0", Target: "golang.org/x/net", Fix: "go get golang.org/x/net@v0.23.0"},
	}
	var many []finding.Finding
	for i := 0; i < 25; i++ {
		// 12 errors, 12 warnings and 1 info: more than the runner annotates.
		sev := []finding.Severity{finding.Error, finding.Warning}[i%2]
		if i == 24 {
			sev = finding.Info
		}
		rule := map[finding.Severity]string{finding.Error: "MH004", finding.Warning: "MH002", finding.Info: "MH006"}[sev]
		mod, file := "example.com/app", "go.mod"
		if i%3 == 1 {
			mod, file = "example.com/app/svc", "svc/go.mod"
		}
		many = append(many, finding.Finding{Rule: rule, Severity: sev, Module: mod, File: file, Line: 3 + i,
			Subject: fmt.Sprintf("example.com/dep%02d", i), Message: fmt.Sprintf("example.com/dep%02d: finding %d", i, i), Fix: fmt.Sprintf("go get example.com/dep%02d@latest", i)})
	}
	runs := map[string]*Run{
		"basic":   {Header: hdr, Stages: stages, Findings: basic},
		"failed":  failedRun(hdr),
		"graphs":  graphsRun(hdr),
		"hostile": hostileRun(),
		"many":    {Header: hdr, Stages: stages[2:], Findings: many},
		"clean": {Header: Header{Protocol: Protocol, Tool: "modhygiene", Version: "v0.9.0", Command: "check",
			Modules: hdr.Modules[:1]}, Stages: stages[3:]},
	}
	for _, r := range runs {
		for i := range r.Findings {
			r.Findings[i].Normalize()
		}
	}
	return runs
}

// failedRun is a tidy run that could not tidy two modules: the go command
// failed for them (a module the proxy refuses, a private module without
// credentials). One failure is marked existing, as a baseline would: it
// must still fail the run.
func failedRun(hdr Header) *Run {
	hdr.Command = "tidy"
	hdr.Modules = append(hdr.Modules, ModuleInfo{Path: "example.com/app/tools", GoMod: "tools/go.mod"})
	return &Run{Header: hdr,
		Stages: []Stage{{Name: "tidy", Duration: 3200 * time.Millisecond, Status: "failed", Summary: "2 of 3 modules could not be tidied"}},
		Findings: []finding.Finding{
			{Rule: finding.FailedRule, Severity: finding.Error, Module: "example.com/app/svc", File: "svc/go.mod", Line: 1, Subject: "tidy",
				Message: "tidy could not run: example.com/private@v1.0.0: reading https://proxy.example/example.com/private/@v/v1.0.0.mod: 404 Not Found"},
			{Rule: finding.FailedRule, Severity: finding.Error, Module: "example.com/app/tools", File: "tools/go.mod", Line: 1, Subject: "tidy", Existing: true,
				Message: "tidy could not run: go: example.com/gone@v0.1.0: verifying module: checksum mismatch"},
			{Rule: "MH001", Severity: finding.Error, Module: "example.com/app", File: "go.mod", Message: "go mod tidy would change go.sum", Fix: "go mod tidy"},
		}}
}

// graphsRun has more findings with dependency paths than the summary
// draws: each rule that compares two sides, of several sizes.
func graphsRun(hdr Header) *Run {
	app, svc := "example.com/app", "example.com/app/svc"
	fs := []finding.Finding{
		{Rule: "MH002", Severity: finding.Error, Module: app, File: "go.mod", Line: 5, Subject: "github.com/x/y",
			Message: "github.com/x/y v1.9.0 and github.com/x/y/v2 v2.3.0 are two major versions of one module; both are linked into the build",
			Path:    []string{app, "example.com/a", "example.com/b", "example.com/c", "github.com/x/y"}, Version: "v1.9.0",
			Other:  &finding.Side{Module: "github.com/x/y/v2", Version: "v2.3.0", Path: []string{app, "example.com/a", "github.com/x/y/v2"}},
			Target: "example.com/c", Fix: "go get example.com/c@v1.2.0"},
		{Rule: "MH003", Severity: finding.Warning, Module: app, File: "go.mod", Line: 6, Subject: "github.com/dgrijalva/jwt-go",
			Message: "github.com/dgrijalva/jwt-go and github.com/golang-jwt/jwt are the same code under two module paths",
			Path:    []string{app, "example.com/auth", "github.com/dgrijalva/jwt-go"}, Version: "v3.2.0+incompatible",
			Other:  &finding.Side{Module: "github.com/golang-jwt/jwt/v4", Version: "v4.5.0", Path: []string{app, "github.com/golang-jwt/jwt/v4"}},
			Target: "example.com/auth", Fix: "go get example.com/auth@latest"},
		{Rule: "MH004", Severity: finding.Error, Module: app, File: "go.mod", Line: 8, Subject: "go.opentelemetry.io/otel/trace",
			Message: "go.opentelemetry.io/otel/trace v1.19.0 lags go.opentelemetry.io/otel v1.21.0 of the same family",
			Path:    []string{app, "example.com/telemetry", "go.opentelemetry.io/otel/trace"}, Version: "v1.19.0",
			Other:  &finding.Side{Module: "go.opentelemetry.io/otel", Version: "v1.21.0", Path: []string{app, "go.opentelemetry.io/otel"}},
			Target: "go.opentelemetry.io/otel/trace", Fix: "go get go.opentelemetry.io/otel/trace@v1.21.0"},
		{Rule: "MH005", Severity: finding.Warning, Module: svc, File: "svc/go.mod", Line: 4, Subject: "golang.org/x/text",
			Message: "golang.org/x/text is at v0.3.0 here and at v0.14.0 in example.com/app",
			Path:    []string{svc, "golang.org/x/text"}, Version: "v0.3.0",
			Other:  &finding.Side{Module: "golang.org/x/text", Version: "v0.14.0", Path: []string{app, "example.com/i18n", "golang.org/x/text"}},
			Target: "golang.org/x/text", Fix: "cd svc && go get golang.org/x/text@v0.14.0"},
		{Rule: "MH010", Severity: finding.Error, Module: svc, File: "svc/go.mod", Line: 9, Subject: "GO-2023-2102",
			Message: "GO-2023-2102: golang.org/x/net/http2: rapid reset, fixed in v0.17.0",
			Path:    []string{svc, "google.golang.org/grpc", "golang.org/x/net"}, Version: "v0.15.0", Target: "golang.org/x/net", Fix: "cd svc && go get golang.org/x/net@v0.17.0"},
		{Rule: "MH006", Severity: finding.Info, Module: svc, File: "svc/go.mod", Line: 10, Subject: "github.com/golang/mock",
			Message: "github.com/golang/mock is deprecated", Path: []string{svc, "github.com/golang/mock"}},
	}
	// A long path: the middle is drawn as one node.
	long := []string{app}
	for i := 0; i < 20; i++ {
		long = append(long, fmt.Sprintf("example.com/hop%02d", i))
	}
	fs = append(fs, finding.Finding{Rule: "MH010", Severity: finding.Error, Module: app, File: "go.mod", Line: 12, Subject: "GO-2024-0001",
		Message: "GO-2024-0001: example.com/hop19: a deep vulnerability", Path: long, Version: "v1.0.0", Target: "example.com/hop03", Fix: "go get example.com/hop03@v1.1.0"})
	return &Run{Header: hdr, Findings: fs, Stages: []Stage{
		{Name: "restore", Duration: 2100 * time.Millisecond, Previous: 9 * time.Second, Status: "ok"},
		{Name: "tidy", Duration: 61500 * time.Millisecond, Previous: 58 * time.Second, Status: "ok"},
		{Name: "check", Duration: 45 * time.Millisecond, Status: "findings"},
		{Name: "vuln", Duration: 12 * time.Second, Previous: 30 * time.Second, Status: "findings"},
		{Name: "save", Duration: 0, Status: "skipped"},
	}}
}

// hostile is text an attacker controls: a module author (paths, versions,
// retraction rationales), a repository's directory names, a stage summary
// quoting an input. None of it may run a workflow command, add markup to
// a summary or a note, leave a code span or a Mermaid block, or start a
// Mermaid directive.
const hostile = "x`<img src=x onerror=alert(1)>`$(touch PWNED) | ** [link](javascript:alert(1)) @everyone #1 ```\n```html\n" +
	"\n::error title=INJECTED::pwned\r::add-mask::SECRETX\n  ::warning ::indented\n##[error]legacy %%{init: {\"securityLevel\": \"loose\"}}%% \"]\nclick n0 call alert(1)\n</details><script>alert(1)</script>"

func hostileRun() *Run {
	dir := "x`<img src=x onerror=alert(1)>`$(touch PWNED)"
	mod := "example.com/" + dir
	return &Run{
		Header: Header{Protocol: Protocol, Tool: "modhygiene", Version: "v0.9.0`<b>", Command: "run`<i>", Dir: dir,
			Modules: []ModuleInfo{{Path: mod, GoMod: dir + "/go.mod"}}},
		Stages: []Stage{{Name: "tidy" + hostile, Duration: time.Second, Previous: 2 * time.Second, Status: "ok|x", Summary: hostile}},
		Findings: []finding.Finding{
			{Rule: "MH007", Severity: finding.Error, Module: mod, File: dir + "/go.mod", Line: 3, Subject: "example.com/evil",
				Message: "example.com/evil v1.0.0 is retracted by its author: " + hostile, Path: []string{mod, "example.com/evil" + hostile}, Version: "v1.0.0",
				Fix: "cd " + finding.Quote(dir) + " && go get example.com/evil@v1.0.1"},
			{Rule: "MH002", Severity: finding.Warning, Module: mod, File: dir + "/go.mod", Line: 4, Subject: "example.com/two" + hostile,
				Message: hostile, Path: []string{mod, "example.com/two" + hostile}, Version: "v1.0.0" + hostile,
				Other:  &finding.Side{Module: "example.com/two/v2" + hostile, Version: "v2.0.0", Path: []string{mod, "example.com/lib\"", "example.com/two/v2" + hostile}},
				Target: "example.com/lib\"", Detail: hostile, Fix: "cd " + finding.Quote(dir) + " && go get 'example.com/lib\"@v1.1.0'"},
			{Rule: finding.FailedRule, Severity: finding.Error, Module: mod, File: dir + "/go.mod", Line: 1, Subject: "check",
				Message: "check could not run: " + hostile},
		},
	}
}

func TestRegenStreams(t *testing.T) {
	if !*regenStreams {
		t.Skip("-regen-streams not set")
	}
	for name, run := range recordedRuns() {
		f, err := os.Create(filepath.Join("testdata", "streams", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := Replay(run, NewJSONHandler(f)); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}
