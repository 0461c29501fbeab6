package mirror

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/ci"
)

var testVars = []Var{
	{"GOPROXY", "https://near.example/|https://far.example/go/|direct"},
	{"GOSUMDB", "sum.example https://far.example/go/sumdb/sum.example"},
	{"GOPRIVATE", "git.corp.example,github.com/o'brien"},
}

func TestWriteShell(t *testing.T) {
	var b bytes.Buffer
	if err := WriteShell(&b, testVars); err != nil {
		t.Fatal(err)
	}
	want := `export GOPROXY='https://near.example/|https://far.example/go/|direct'
export GOSUMDB='sum.example https://far.example/go/sumdb/sum.example'
export GOPRIVATE='git.corp.example,github.com/o'\''brien'
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Error(diff)
	}
}

type fixedRand byte

func (f fixedRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

func TestWriteGitHubEnv(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGitHubEnv(&b, testVars, nil); err != nil {
		t.Fatal(err)
	}
	got, err := ci.ParseEnvFile(b.String())
	if err != nil {
		t.Fatal(err)
	}
	var want [][2]string
	for _, v := range testVars {
		want = append(want, [2]string{v.Name, v.Value})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	// Delimiters are random: two writes differ.
	var b2 bytes.Buffer
	WriteGitHubEnv(&b2, testVars, nil)
	if b.String() == b2.String() {
		t.Error("two GITHUB_ENV writes used the same delimiters")
	}
	// A value containing its delimiter is refused.
	delim := "ghadelimiter_" + strings.Repeat("07", 16)
	err = WriteGitHubEnv(&bytes.Buffer{}, []Var{{"GOPRIVATE", "x" + delim}}, fixedRand(7))
	if err == nil {
		t.Error("value containing the delimiter was written")
	}
}

func TestWriteDotenv(t *testing.T) {
	var b bytes.Buffer
	if err := WriteDotenv(&b, testVars); err != nil {
		t.Fatal(err)
	}
	want := "GOPROXY=https://near.example/|https://far.example/go/|direct\n" +
		"GOSUMDB=sum.example https://far.example/go/sumdb/sum.example\n" +
		"GOPRIVATE=git.corp.example,github.com/o'brien\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Error(diff)
	}
	if err := WriteDotenv(&b, []Var{{"GOPRIVATE", " x"}}); err == nil {
		t.Error("value with leading blank accepted")
	}
}

func TestWriteJSON(t *testing.T) {
	results := []Result{
		{Candidate: Candidate{Name: "near", URL: "https://near.example"}, Status: Healthy, Latency: 10 * time.Millisecond,
			Samples: []time.Duration{9 * time.Millisecond, 10 * time.Millisecond, 12 * time.Millisecond}, Requests: 3, SumDB: SumDBVerified},
		{Candidate: Candidate{URL: "https://gone.example"}, Status: Unreachable, Requests: 1, Error: "no answer before the timeout"},
	}
	d := Choose(results, ChooseOptions{GOSUMDB: "off", DefaultGOSUMDB: "sum.example"})
	var b bytes.Buffer
	if err := WriteJSON(&b, &d, 3*time.Second, 3*time.Second+time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var got struct {
		GOPROXY string `json:"goproxy"`
		GOSUMDB string `json:"gosumdb"`
		Results []struct {
			URL     string  `json:"url"`
			Status  string  `json:"status"`
			Samples []int64 `json:"samples_ns"`
			SumDB   string  `json:"sumdb"`
			Error   string  `json:"error"`
		} `json:"results"`
		Env     []Var `json:"env"`
		Timeout int64 `json:"timeout_ns"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.GOPROXY != "https://near.example|direct" || got.GOSUMDB != "sum.example" || len(got.Results) != 2 ||
		len(got.Results[0].Samples) != 3 || got.Results[1].Status != "unreachable" || got.Timeout != int64(3*time.Second) {
		t.Errorf("unexpected JSON:\n%s", b.String())
	}
	if diff := cmp.Diff([]Var{{"GOPROXY", "https://near.example|direct"}, {"GOSUMDB", "sum.example"}}, got.Env); diff != "" {
		t.Error(diff)
	}
}

// TestNeverWeakens: no writer exports anything that turns checksum
// verification off, whatever it is asked to write.
func TestNeverWeakens(t *testing.T) {
	bad := [][]Var{
		{{"GOSUMDB", "off"}},
		{{"GOSUMDB", " OFF "}},
		{{"GOSUMDB", ""}},
		{{"GONOSUMCHECK", "1"}},
		{{"GOINSECURE", "*"}},
		{{"GOFLAGS", "-insecure"}},
		{{"GOPROXY", "https://a.example\nGOSUMDB=off"}},
	}
	for _, vs := range bad {
		for name, write := range map[string]func() error{
			"shell":  func() error { return WriteShell(&bytes.Buffer{}, vs) },
			"github": func() error { return WriteGitHubEnv(&bytes.Buffer{}, vs, nil) },
			"dotenv": func() error { return WriteDotenv(&bytes.Buffer{}, vs) },
		} {
			if err := write(); err == nil {
				t.Errorf("%s wrote %q", name, vs)
			}
		}
	}
	// Every decision Choose can make exports only safe variables.
	for _, sumdb := range []string{"", "off", "sum.example", "sum.example+key https://x.example"} {
		for _, nd := range []bool{false, true} {
			d := Choose([]Result{res("a", Healthy, 1, SumDBUnsupported), res("b", Failing, 1, SumDBSupported)},
				ChooseOptions{NoDirect: nd, GOSUMDB: sumdb, DefaultGOSUMDB: "sum.example"})
			if err := CheckSafe(d.Vars()); err != nil {
				t.Errorf("GOSUMDB=%q NoDirect=%v: %v", sumdb, nd, err)
			}
			for _, v := range d.Vars() {
				if v.Name == "GOSUMDB" && strings.EqualFold(v.Value, "off") {
					t.Errorf("exported GOSUMDB=off")
				}
			}
		}
	}
}

func TestWriteTable(t *testing.T) {
	results := []Result{
		{Candidate: Candidate{Name: "near", URL: "https://near.example"}, Status: Healthy, Latency: 12 * time.Millisecond, Samples: []time.Duration{12 * time.Millisecond}, SumDB: SumDBVerified},
		{Candidate: Candidate{Name: "liar", URL: "https://tok3n-s3cret@liar.example"}, Status: Healthy, Latency: 9 * time.Millisecond, Samples: []time.Duration{9 * time.Millisecond},
			SumDB: SumDBInvalid, SumDBDetail: "lookup example.com/m@v1.0.0 did not verify: malformed note"},
		{Candidate: Candidate{URL: "https://gone.example"}, Status: Unreachable, Error: "no answer before the timeout"},
	}
	d := Choose(results, ChooseOptions{GOSUMDB: "sum.example"})
	var b bytes.Buffer
	if err := WriteTable(&b, &d); err != nil {
		t.Fatal(err)
	}
	want := `CANDIDATE  URL                       STATUS       LATENCY  SUMDB     CHAIN  NOTE
near       https://near.example      healthy      12ms     verified  2
liar       https://***@liar.example  healthy      9.0ms    invalid   1      sumdb: lookup example.com/m@v1.0.0 did not verify: malformed note
-          https://gone.example      unreachable  -        -         -      no answer before the timeout

GOPROXY=https://***@liar.example|https://near.example|direct
why: healthy mirrors by latency, then slow ones, then direct
GOSUMDB=sum.example https://near.example/sumdb/sum.example
note: liar answers for the checksum database, but lookup example.com/m@v1.0.0 did not verify: malformed note; GOSUMDB names near (verified) instead, so the go command does not use it
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Error(diff)
	}

	// Every candidate dead: the table says GOPROXY stays, and why.
	d = Choose(results[2:], ChooseOptions{GOSUMDB: "sum.example", Current: "https://mh:Pw-s3cret@corp.example|direct"})
	b.Reset()
	WriteTable(&b, &d)
	for _, line := range []string{"GOPROXY unchanged: https://***@corp.example|direct\n", "why: no candidate is usable: GOPROXY stays as it is (not replaced with direct)\n"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, b.String())
		}
	}
}

func TestStepOutputs(t *testing.T) {
	d := Decision{GOPROXY: "https://mh:Pw-s3cret@corp.example|direct", GOSUMDB: "sum.example https://tok-s3cret@corp.example/sumdb/sum.example"}
	want := map[string]string{"goproxy": "https://***@corp.example|direct", "gosumdb": "sum.example https://***@corp.example/sumdb/sum.example"}
	if diff := cmp.Diff(want, d.StepOutputs()); diff != "" {
		t.Error(diff)
	}
	d = Decision{GOPROXY: "https://a.example|direct", KeepGOPROXY: true}
	if diff := cmp.Diff(map[string]string{"goproxy": "https://a.example|direct"}, d.StepOutputs()); diff != "" {
		t.Error(diff)
	}
}

// TestWriteShellEval evaluates the export lines in a real POSIX shell:
// hostile values come back byte for byte and run nothing.
func TestWriteShellEval(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	values := []string{
		"https://a.example/|direct",
		`it's $(touch pwned) and ` + "`touch pwned2`" + `; echo "x" \ $HOME`,
		"",
		"'''",
	}
	for _, v := range values {
		var b bytes.Buffer
		if err := WriteShell(&b, []Var{{"GOPRIVATE", v}}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh, "-c", b.String()+`printf '%s' "$GOPRIVATE"`)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%q: %v", b.String(), err)
		}
		if string(out) != v {
			t.Errorf("eval of %q gave %q, want %q", b.String(), out, v)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("evaluating the exports ran commands: %v", entries)
	}
}
