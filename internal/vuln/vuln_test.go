package vuln

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"

	"github.com/modhygiene/modhygiene/internal/finding"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

// testdata/text.stream.json is govulncheck v1.7.0's JSON for a module that
// requires golang.org/x/text v0.3.7 and calls language.ParseAcceptLanguage,
// cut down to three entries.
func parseRecorded(t *testing.T) *Report {
	t.Helper()
	f, err := os.Open("testdata/text.stream.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestParse(t *testing.T) {
	rep := parseRecorded(t)
	if rep.Config.ScanLevel != "symbol" || rep.Config.ProtocolVersion != "v1.0.0" {
		t.Errorf("config = %+v", rep.Config)
	}
	type vuln struct {
		ID, Module, Version, Fixed string
		Reach                      Reach
		Packages, Symbols          []string
		HasEntry                   bool
	}
	var got []vuln
	for _, v := range rep.Vulns {
		got = append(got, vuln{v.ID, v.Module, v.Version, v.Fixed, v.Reach, v.Packages, v.Symbols, v.Entry != nil})
	}
	want := []vuln{
		{"GO-2022-1059", "golang.org/x/text", "v0.3.7", "v0.3.8", Called, []string{"golang.org/x/text/language"}, []string{"language.ParseAcceptLanguage"}, true},
		{"GO-2026-5970", "golang.org/x/text", "v0.3.7", "v0.39.0", Required, nil, nil, true},
		{"GO-2026-6604", "stdlib", "v1.26.8", "v1.26.9", Imported, []string{"os"}, nil, true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("vulns (-want +got):\n%s", d)
	}
	if !hasModule(rep.Modules, "golang.org/x/text") {
		t.Errorf("SBOM modules = %v, want golang.org/x/text", rep.Modules)
	}
}

func hasModule(ms []ModuleInfo, path string) bool {
	for _, m := range ms {
		if m.Path == path {
			return true
		}
	}
	return false
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{
		``,
		`{"progress":{"message":"x"}}`,
		`{"config":{"protocol_version":"v1.0.0"}} {"finding":`,
		`not json`,
	} {
		if _, err := Parse(strings.NewReader(in)); err == nil {
			t.Errorf("Parse(%q) = nil error", in)
		}
	}
}

func testModule(t *testing.T, rel, gomod string) *workspace.Module {
	t.Helper()
	f, err := modfile.Parse("go.mod", []byte(gomod), nil)
	if err != nil {
		t.Fatal(err)
	}
	return &workspace.Module{Path: f.Module.Mod.Path, Rel: rel, File: f, Data: []byte(gomod)}
}

func TestFindings(t *testing.T) {
	rep := parseRecorded(t)
	m := testModule(t, "svc", `module example.com/app

go 1.25.0

require golang.org/x/text v0.3.7
`)
	type row struct {
		Subject  string
		Severity finding.Severity
		File     string
		Line     int
		Fix      string
		Path     []string
	}
	rows := func(fs []finding.Finding) []row {
		var out []row
		for _, f := range fs {
			if f.Rule != Rule || f.Module != "example.com/app" {
				t.Errorf("finding %+v: wrong rule or module", f)
			}
			out = append(out, row{f.Subject, f.Severity, f.File, f.Line, f.Fix, f.Path})
		}
		return out
	}
	// The requirement path comes from depPath (modgraph's Chain) for every
	// reach, so that MH010 names the path the other rules name.
	chain := func(string) []string { return []string{"example.com/app", "example.com/mid", "golang.org/x/text"} }
	got := rows(rep.Findings(m, LevelSymbol, chain))
	want := []row{
		{"GO-2022-1059", finding.Error, "svc/go.mod", 5, "cd svc && go get golang.org/x/text@v0.3.8 && go mod tidy", chain("")},
		{"GO-2026-5970", finding.Info, "svc/go.mod", 5, "cd svc && go get golang.org/x/text@v0.39.0 && go mod tidy", chain("")},
		{"GO-2026-6604", finding.Warning, "svc/go.mod", 3, "cd svc && go get toolchain@go1.26.9", nil},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	// Without a graph, a called vulnerability's path is the modules of its
	// call trace.
	fs := rep.Findings(m, LevelSymbol, nil)
	if want := []string{"example.com/app", "golang.org/x/text"}; !cmp.Equal(want, fs[0].Path) || fs[1].Path != nil {
		t.Errorf("paths without a graph: %v, %v; want %v from the trace, then none", fs[0].Path, fs[1].Path, want)
	}
	if msg := fs[0].Message; msg != "GO-2022-1059: Denial of service via crafted Accept-Language header in golang.org/x/text/language; golang.org/x/text v0.3.7 is called (language.ParseAcceptLanguage); fixed in v0.3.8" {
		t.Errorf("message = %q", msg)
	}
	if !strings.Contains(fs[0].Detail, "main.go:10:46: app.main calls language.ParseAcceptLanguage") {
		t.Errorf("detail = %q, want the call trace", fs[0].Detail)
	}
}

func TestFindingsStdlibRequiredOnlyAtModuleLevel(t *testing.T) {
	m := testModule(t, ".", "module example.com/app\n\ngo 1.25.0\n\ntoolchain go1.25.1\n")
	rep := &Report{Vulns: []*Vuln{{ID: "GO-2099-0001", Module: "stdlib", Version: "v1.25.1", Fixed: "v1.25.2", Reach: Required}}}
	if fs := rep.Findings(m, LevelSymbol, nil); len(fs) != 0 {
		t.Errorf("symbol level: %d findings, want none for a standard library entry only required", len(fs))
	}
	fs := rep.Findings(m, LevelModule, nil)
	if len(fs) != 1 || fs[0].Line != 5 || fs[0].Severity != finding.Info {
		t.Errorf("module level: %+v, want one info finding on the toolchain line", fs)
	}
}

func TestFindingsReplacedAndMerged(t *testing.T) {
	m := testModule(t, ".", `module example.com/app

go 1.22

require (
	example.com/a v1.0.0
	example.com/b v1.0.0
)

replace example.com/b => example.com/fork v1.0.5
`)
	rep := &Report{Vulns: []*Vuln{
		{ID: "GO-2099-0001", Module: "example.com/a", Version: "v1.0.0", Fixed: "v1.0.1", Reach: Required},
		{ID: "GO-2099-0001", Module: "example.com/fork", Version: "v1.0.5", Fixed: "v1.0.6", Reach: Imported, Packages: []string{"example.com/fork/p"}},
	}}
	fs := rep.Findings(m, LevelSymbol, nil)
	if len(fs) != 1 {
		t.Fatalf("%d findings, want 1 per OSV ID", len(fs))
	}
	if fs[0].Line != 7 || fs[0].Severity != finding.Warning {
		t.Errorf("line %d severity %v, want the replaced module's require line 7 as a warning", fs[0].Line, fs[0].Severity)
	}
	if want := "go mod edit -replace=example.com/b=example.com/fork@v1.0.6 && go get example.com/a@v1.0.1 && go mod tidy"; fs[0].Fix != want {
		t.Errorf("fix = %q, want %q", fs[0].Fix, want)
	}
}

func TestNonSupersededFix(t *testing.T) {
	type ev = struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	}
	for _, tc := range []struct {
		events []ev
		want   string
	}{
		{[]ev{{Introduced: "0"}, {Fixed: "1.2.0"}}, "1.2.0"},
		{[]ev{{Introduced: "0"}, {Fixed: "1.2.0"}, {Introduced: "1.5.0"}, {Fixed: "1.5.3"}}, "1.5.3"},
		{[]ev{{Introduced: "0"}, {Fixed: "1.2.0"}, {Introduced: "1.5.0"}}, ""},
		{[]ev{{Introduced: "0"}}, ""},
		{[]ev{{Introduced: "0"}, {Fixed: "0.10.0"}, {Fixed: "0.9.0"}}, "0.10.0"},
	} {
		got := nonSupersededFix([]Range{{Type: "SEMVER", Events: tc.events}})
		if got != tc.want {
			t.Errorf("nonSupersededFix(%v) = %q, want %q", tc.events, got, tc.want)
		}
	}
}

func TestAffectsAndEarliestFix(t *testing.T) {
	e := &Entry{ID: "GO-2099-0001"}
	if err := jsonUnmarshal(`{"id":"GO-2099-0001","affected":[{"package":{"name":"m"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"},{"fixed":"1.3.4"}]}]}]}`, e); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version  string
		affected bool
		fix      string
	}{
		{"v1.0.0", true, "v1.2.0"},
		{"v1.2.0", false, "v1.3.4"},
		{"v1.2.5", false, "v1.3.4"},
		{"v1.3.0", true, "v1.3.4"},
		{"v1.3.4", false, ""},
		{"v0.0.0-20200101000000-abcdefabcdef", true, "v1.2.0"},
	} {
		if got := e.affects("m", tc.version); got != tc.affected {
			t.Errorf("affects(%s) = %v, want %v", tc.version, got, tc.affected)
		}
		if tc.affected {
			if got := e.earliestFix("m", tc.version); got != tc.fix {
				t.Errorf("earliestFix(%s) = %q, want %q", tc.version, got, tc.fix)
			}
		}
	}
	if e.affects("other", "v1.0.0") {
		t.Error("affects another module")
	}
}

func TestBuildLayout(t *testing.T) {
	src := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(src, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("GO-2099-0002.json", `{"id":"GO-2099-0002","modified":"0001-01-01T00:00:00Z","affected":[{"package":{"name":"example.com/b"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]},{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"2.0.0"}]}]}]}`)
	write("GO-2099-0001.json", `{"id":"GO-2099-0001","modified":"2026-03-01T00:00:00Z","affected":[{"package":{"name":"example.com/a"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`)
	write("README.md", "not an entry")
	dst := filepath.Join(t.TempDir(), "db", "v1")
	fallback := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := BuildLayout(src, dst, fallback); err != nil {
		t.Fatal(err)
	}
	if !IsLayout(dst) {
		t.Fatal("IsLayout = false after BuildLayout")
	}
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if got, want := read("index/db.json"), `{"modified":"2026-03-01T00:00:00Z"}`+"\n"; got != want {
		t.Errorf("db.json = %q, want %q", got, want)
	}
	want := `[{"path":"example.com/a","vulns":[{"id":"GO-2099-0001","modified":"2026-03-01T00:00:00Z","fixed":"1.0.1"},{"id":"GO-2099-0002","modified":"2026-01-01T00:00:00Z","fixed":"2.0.0"}]},{"path":"example.com/b","vulns":[{"id":"GO-2099-0002","modified":"2026-01-01T00:00:00Z"}]}]` + "\n"
	if got := read("index/modules.json"); got != want {
		t.Errorf("modules.json:\n%s\nwant:\n%s", got, want)
	}
	if !strings.Contains(read("ID/GO-2099-0002.json"), `"example.com/b"`) {
		t.Error("ID/GO-2099-0002.json does not hold the entry")
	}
	// A second build of the same destination keeps the first.
	if err := BuildLayout(src, dst, fallback); err != nil {
		t.Errorf("second BuildLayout: %v", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dst), ".build-*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}

	write("GO-2099-0003.json", `{"id":"GO-2099-9999","affected":[]}`)
	if err := BuildLayout(src, filepath.Join(t.TempDir(), "bad"), fallback); err == nil {
		t.Error("BuildLayout accepted an entry whose ID does not match its file name")
	}
}

func TestParseSource(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	for _, p := range []string{"index", "ID"} {
		if err := os.MkdirAll(filepath.Join(db, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"index/db.json", "index/modules.json"} {
		if err := os.WriteFile(filepath.Join(db, filepath.FromSlash(p)), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		in   string
		want Source
		err  bool
	}{
		{in: "", want: Source{Kind: Official}},
		{in: "official", want: Source{Kind: Official}},
		{in: "module", want: Source{Kind: Module, Version: "latest"}},
		{in: "module@v0.0.0-20260101000000-abcdefabcdef", want: Source{Kind: Module, Version: "v0.0.0-20260101000000-abcdefabcdef"}},
		{in: "module@main", err: true},
		{in: "file://" + filepath.ToSlash(db), want: Source{Kind: URL, URL: FileURL(db)}},
		{in: "file:db", want: Source{Kind: URL, URL: FileURL(db)}},
		{in: "file://" + filepath.ToSlash(dir), err: true},
		{in: "file://host/x", err: true},
		{in: "https://vulndb.example.com/", want: Source{Kind: URL, URL: "https://vulndb.example.com"}},
		{in: "ftp://x", err: true},
	} {
		got, err := ParseSource(tc.in, dir)
		if (err != nil) != tc.err {
			t.Errorf("ParseSource(%q) error = %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if d := cmp.Diff(tc.want, got); !tc.err && d != "" {
			t.Errorf("ParseSource(%q) (-want +got):\n%s", tc.in, d)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func TestGoSemver(t *testing.T) {
	for in, want := range map[string]string{
		"go1.26.8":                "v1.26.8",
		"go1.22":                  "v1.22.0",
		"go1.23rc1":               "v1.23.0-rc1",
		"go1.21.0 X:boringcrypto": "v1.21.0",
		"devel go1.27-abcdef":     "",
		"":                        "",
	} {
		if got := goSemver(in); got != want {
			t.Errorf("goSemver(%q) = %q, want %q", in, got, want)
		}
	}
}
