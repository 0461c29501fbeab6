package mirror

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
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

// Vars returns the variables to export, in a fixed order: GOPROXY (unless
// it is kept or empty), GOSUMDB (when it changes), and GOPRIVATE, GONOPROXY
// and GONOSUMDB (when private patterns were given). The values are the real
// ones, credentials included, for the environment of later steps
// (WriteGitHubEnv, WriteDotenv, WriteShell); never print them.
func (d *Decision) Vars() []Var {
	var vs []Var
	if d.GOPROXY != "" && !d.KeepGOPROXY {
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
// the variables it exports, every URL redacted.
type JSONDecision struct {
	Decision
	// Env are the variables exported, their URLs redacted.
	Env []Var `json:"env"`
	// Timeout is the per-candidate probe bound.
	Timeout time.Duration `json:"timeout_ns"`
	// Elapsed is the wall time of probing all candidates.
	Elapsed time.Duration `json:"elapsed_ns"`
}

// WriteJSON writes the decision, every measurement and the exported
// variables as one indented JSON object, with every URL and message
// redacted (see Decision.Redacted): the JSON goes to stdout and files that
// are kept, so it never carries credentials. The real values go to the
// environment through WriteGitHubEnv, WriteDotenv or WriteShell.
func WriteJSON(w io.Writer, d *Decision, timeout, elapsed time.Duration) error {
	vs := d.Vars()
	if err := CheckSafe(vs); err != nil {
		return err
	}
	env := []Var{}
	for _, v := range vs {
		env = append(env, Var{v.Name, ci.Redact(v.Value)})
	}
	rd := d.Redacted()
	if rd.Chain == nil {
		rd.Chain = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(JSONDecision{Decision: rd, Env: env, Timeout: timeout, Elapsed: elapsed})
}

// Redacted returns a copy of d fit to print or store: the credentials of
// every URL in it, and of URLs quoted in its messages, are removed (see
// ci.Redact).
func (d *Decision) Redacted() Decision {
	rd := *d
	rd.GOPROXY = ci.RedactURL(d.GOPROXY)
	rd.GOSUMDB = ci.RedactURL(d.GOSUMDB)
	rd.SumDBVia = ci.RedactURL(d.SumDBVia)
	rd.Why = ci.Redact(d.Why)
	rd.Chain = redactResults(d.Chain)
	rd.Results = redactResults(d.Results)
	rd.SumDBEndpoints = nil
	for _, e := range d.SumDBEndpoints {
		e.URL, e.Error = ci.RedactURL(e.URL), ci.Redact(e.Error)
		rd.SumDBEndpoints = append(rd.SumDBEndpoints, e)
	}
	rd.Notes = nil
	for _, n := range d.Notes {
		rd.Notes = append(rd.Notes, ci.Redact(n))
	}
	return rd
}

func redactResults(rs []Result) []Result {
	if rs == nil {
		return nil
	}
	out := make([]Result, len(rs))
	for i, r := range rs {
		r.URL = ci.RedactURL(r.URL)
		r.Error = ci.Redact(r.Error)
		r.SumDBDetail = ci.Redact(r.SumDBDetail)
		r.SumDBGoSum = ci.Redact(r.SumDBGoSum)
		r.Notice = ci.Redact(r.Notice)
		r.Samples = append([]time.Duration(nil), r.Samples...)
		out[i] = r
	}
	return out
}

// RedactedGOPROXY returns the GOPROXY in effect after the decision (the
// chosen chain, or the kept one) with its credentials removed: the value
// for step outputs, reports and messages.
func (d *Decision) RedactedGOPROXY() string { return ci.RedactURL(d.GOPROXY) }

// StepOutputs returns the mirrors stage's step outputs, redacted: goproxy
// (the GOPROXY in effect) and, when GOSUMDB is exported, gosumdb. Later
// steps get the real values from the environment (GITHUB_ENV or the
// dotenv file), never from outputs, which the runner stores and shows.
func (d *Decision) StepOutputs() map[string]string {
	out := map[string]string{"goproxy": d.RedactedGOPROXY()}
	if d.GOSUMDB != "" {
		out["gosumdb"] = ci.RedactURL(d.GOSUMDB)
	}
	return out
}

// WriteTable prints one line per candidate (name, URL, status, median
// latency, checksum-database answer, its place in the chain and, for the
// unhealthy, why), the endpoints asked, the GOPROXY in effect with the
// reason for it, GOSUMDB and the notes. Every URL and message is redacted.
func WriteTable(w io.Writer, d *Decision) error {
	rd := d.Redacted()
	var tb strings.Builder
	tw := tabwriter.NewWriter(&tb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CANDIDATE\tURL\tSTATUS\tLATENCY\tSUMDB\tCHAIN\tNOTE")
	for _, r := range rd.Results {
		lat := "-"
		if len(r.Samples) > 0 {
			lat = fmtDuration(r.Latency)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", orDash(r.Name), r.URL, r.Status, lat, orDash(string(r.SumDB)), chainPlace(&rd, r), resultNote(r))
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
	for _, e := range rd.SumDBEndpoints {
		if e.OK {
			fmt.Fprintf(&b, "checksum database endpoint %s verified (%s)\n", e.URL, fmtDuration(e.Latency))
		} else {
			fmt.Fprintf(&b, "checksum database endpoint %s: %s\n", e.URL, e.Error)
		}
	}
	switch {
	case rd.KeepGOPROXY && rd.GOPROXY != "":
		fmt.Fprintf(&b, "\nGOPROXY unchanged: %s\n", rd.GOPROXY)
	case rd.KeepGOPROXY || rd.GOPROXY == "":
		b.WriteString("\nGOPROXY unchanged\n")
	default:
		fmt.Fprintf(&b, "\nGOPROXY=%s\n", rd.GOPROXY)
	}
	if rd.Why != "" {
		fmt.Fprintf(&b, "why: %s\n", rd.Why)
	}
	if rd.GOSUMDB != "" {
		fmt.Fprintf(&b, "GOSUMDB=%s\n", rd.GOSUMDB)
	}
	for _, n := range rd.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// chainPlace is r's position in the chain ("1", "2" ...), or "-".
func chainPlace(d *Decision, r Result) string {
	for i, c := range d.Chain {
		if c.URL == r.URL {
			return strconv.Itoa(i + 1)
		}
	}
	return "-"
}

// resultNote joins what a person should know about r.
func resultNote(r Result) string {
	var parts []string
	for _, s := range []string{r.Error, r.Notice} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if r.SumDB == SumDBInvalid || r.SumDB == SumDBSupported {
		parts = append(parts, "sumdb: "+sumdbDetail(&r))
	}
	return strings.Join(parts, "; ")
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
