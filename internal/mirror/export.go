package mirror

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modhygiene/modhygiene/internal/ci"
)

// Var is one environment variable to export.
type Var struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// exportable are the only variables a decision may export.
var exportable = map[string]bool{"GOPROXY": true, "GOSUMDB": true, "GOPRIVATE": true, "GONOPROXY": true, "GONOSUMDB": true}

// Vars returns the variables to export, in a fixed order: GOPROXY (when the
// chain is not empty), GOSUMDB (when it changes), and GOPRIVATE, GONOPROXY
// and GONOSUMDB (when private patterns were given).
func (d *Decision) Vars() []Var {
	var vs []Var
	if d.GOPROXY != "" {
		vs = append(vs, Var{"GOPROXY", d.GOPROXY})
	}
	if d.GOSUMDB != "" {
		vs = append(vs, Var{"GOSUMDB", d.GOSUMDB})
	}
	if d.PrivateSet {
		vs = append(vs, Var{"GOPRIVATE", d.Private}, Var{"GONOPROXY", d.Private}, Var{"GONOSUMDB", d.Private})
	}
	return vs
}

// CheckSafe refuses variables that would weaken checksum verification:
// anything but GOPROXY, GOSUMDB, GOPRIVATE, GONOPROXY and GONOSUMDB (so
// never GOINSECURE, GONOSUMCHECK or GOFLAGS), and GOSUMDB=off. Every writer
// calls it first.
func CheckSafe(vs []Var) error {
	for _, v := range vs {
		if !exportable[v.Name] {
			return fmt.Errorf("refusing to export %s: modhygiene exports only GOPROXY, GOSUMDB and the private patterns", v.Name)
		}
		if v.Name == "GOSUMDB" && (strings.TrimSpace(v.Value) == "" || strings.EqualFold(strings.TrimSpace(v.Value), "off")) {
			return fmt.Errorf("refusing to export GOSUMDB=%q: checksum verification stays on", v.Value)
		}
		if strings.ContainsAny(v.Value, "\r\n\x00") {
			return fmt.Errorf("refusing to export %s: value contains a line break or NUL", v.Name)
		}
	}
	return nil
}

// WriteShell writes `export NAME='value'` lines for a POSIX shell's eval.
func WriteShell(w io.Writer, vs []Var) error {
	if err := CheckSafe(vs); err != nil {
		return err
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "export %s=%s\n", v.Name, ShellQuote(v.Value))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ShellQuote quotes s for a POSIX shell: the value goes between single
// quotes, and each single quote inside it ends the quoting, is escaped with
// a backslash, and quoting starts again.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// WriteGitHubEnv appends the variables to a GitHub runner environment file
// (GITHUB_ENV), each in a heredoc with a fresh random delimiter (see
// ci.EnvFile). rand is the delimiter source; nil means crypto/rand.
func WriteGitHubEnv(w io.Writer, vs []Var, rand io.Reader) error {
	if err := CheckSafe(vs); err != nil {
		return err
	}
	ef := &ci.EnvFile{W: w, Rand: rand}
	for _, v := range vs {
		if err := ef.Set(v.Name, v.Value); err != nil {
			return err
		}
	}
	return nil
}

var dotenvName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WriteDotenv writes a GitLab dotenv report (artifacts: reports: dotenv):
// NAME=value lines, unquoted because GitLab keeps quotes as part of the
// value, no empty lines or comments.
func WriteDotenv(w io.Writer, vs []Var) error {
	if err := CheckSafe(vs); err != nil {
		return err
	}
	var b strings.Builder
	for _, v := range vs {
		if !dotenvName.MatchString(v.Name) {
			return fmt.Errorf("dotenv: invalid name %q", v.Name)
		}
		if v.Value != strings.TrimSpace(v.Value) {
			return fmt.Errorf("dotenv: %s: GitLab would trim the value's surrounding blanks", v.Name)
		}
		fmt.Fprintf(&b, "%s=%s\n", v.Name, v.Value)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSONDecision is the json export: the decision with every measurement and
// the variables it exports.
type JSONDecision struct {
	Decision
	// Env are the variables exported.
	Env []Var `json:"env"`
	// Timeout is the per-candidate probe bound.
	Timeout time.Duration `json:"timeout_ns"`
	// Elapsed is the wall time of probing all candidates.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// WriteJSON writes the decision, every measurement and the exported
// variables as one indented JSON object.
func WriteJSON(w io.Writer, d *Decision, timeout, elapsed time.Duration) error {
	vs := d.Vars()
	if err := CheckSafe(vs); err != nil {
		return err
	}
	if vs == nil {
		vs = []Var{}
	}
	if d.Chain == nil {
		dc := *d
		dc.Chain = []Result{}
		d = &dc
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONDecision{Decision: *d, Env: vs, Timeout: timeout, Elapsed: elapsed})
}

// WriteTable prints one line per candidate: name, URL, status, median
// latency, checksum-database support and, for the unhealthy, why; then the
// chosen GOPROXY and notes.
func WriteTable(w io.Writer, d *Decision) error {
	var tb strings.Builder
	tw := tabwriter.NewWriter(&tb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CANDIDATE\tURL\tSTATUS\tLATENCY\tSUMDB\tNOTE")
	for _, r := range d.Results {
		lat := "-"
		if len(r.Samples) > 0 {
			lat = fmtDuration(r.Latency)
		}
		sum := string(r.SumDB)
		if sum == "" {
			sum = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", orDash(r.Name), Redact(r.URL), r.Status, lat, sum, r.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.SplitAfter(tb.String(), "\n") {
		if line != "" {
			b.WriteString(strings.TrimRight(line, " \n") + "\n")
		}
	}
	for _, e := range d.SumDBEndpoints {
		if e.OK {
			fmt.Fprintf(&b, "checksum database endpoint %s answers (%s)\n", Redact(e.URL), fmtDuration(e.Latency))
		} else {
			fmt.Fprintf(&b, "checksum database endpoint %s: %s\n", Redact(e.URL), e.Error)
		}
	}
	if d.GOPROXY != "" {
		fmt.Fprintf(&b, "\nGOPROXY=%s\n", redactList(d.GOPROXY))
	} else {
		b.WriteString("\nGOPROXY unchanged\n")
	}
	if d.GOSUMDB != "" {
		fmt.Fprintf(&b, "GOSUMDB=%s\n", redactList(d.GOSUMDB))
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// redactList redacts every URL in a GOPROXY or GOSUMDB value.
func redactList(v string) string {
	var b strings.Builder
	start := 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '|' || v[i] == ',' || v[i] == ' ' {
			b.WriteString(Redact(v[start:i]))
			if i < len(v) {
				b.WriteByte(v[i])
			}
			start = i + 1
		}
	}
	return b.String()
}
