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
			Path: []string{"example.com/app", "example.com/lib", "gopkg.in/yaml.v2"}, Fix: "go get example.com/lib@v1.4.0"},
		{Rule: "MH004", Severity: finding.Error, Message: "go.opentelemetry.io/otel family at v1.19.0 and v1.21.0 | mixed", Module: "example.com/app", File: "go.mod", Line: 9, Subject: "go.opentelemetry.io/otel",
			Fix: "go get go.opentelemetry.io/otel@v1.21.0 go.opentelemetry.io/otel/trace@v1.21.0", Existing: true},
		{Rule: "MH009", Severity: finding.Warning, Message: "GOSUMDB=off turns off checksum verification for every module", Subject: "GOSUMDB", Fix: "go env -u GOSUMDB"},
		{Rule: "MH006", Severity: finding.Info, Message: "github.com/golang/mock is deprecated: use go.uber.org/mock <instead>", Module: "example.com/app/svc", File: "svc/go.mod", Line: 4, Subject: "github.com/golang/mock"},
		{Rule: "MH010", Severity: finding.Error, Message: "GO-2024-2611: golang.org/x/net/html: infinite loop, fixed in v0.23.0", Module: "example.com/app", File: "go.mod", Line: 11, Subject: "GO-2024-2611",
			Path: []string{"example.com/app", "golang.org/x/net"}, Fix: "go get golang.org/x/net@v0.23.0"},
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
		"basic": {Header: hdr, Stages: stages, Findings: basic},
		"many":  {Header: hdr, Stages: stages[2:], Findings: many},
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
