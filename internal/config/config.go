// Package config reads .modhygiene.yaml, the repository's configuration file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// FileName is the name of the configuration file at the repository root.
const FileName = ".modhygiene.yaml"

// File is the parsed configuration file. Its zero value is the default
// configuration: every rule at its own severity, nothing ignored.
type File struct {
	// Path is where the file was read from ("" when there is none).
	Path string `yaml:"-"`
	// Rel is Path relative to the repository root, with forward slashes,
	// for findings about the file; "" means FileName.
	Rel string `yaml:"-"`
	// Rules sets a rule's severity ("info", "warning", "error") or turns it
	// off ("off"), by rule ID.
	Rules map[string]string `yaml:"rules"`
	// Ignore lists findings to ignore.
	Ignore []Ignore `yaml:"ignore"`
	// Twins adds pairs of module paths that hold the same code (rule MH003).
	Twins []Twin `yaml:"twins"`
	// Families adds module families released together (rule MH004).
	Families []Family `yaml:"families"`
	// Run holds the defaults of `modhygiene run`, by input name.
	Run map[string]string `yaml:"run"`
}

// Ignore silences matching findings until Expires.
type Ignore struct {
	// Rule is the rule ID; empty matches every rule.
	Rule string `yaml:"rule"`
	// Subject matches the finding's subject: a module path, an OSV ID
	// (GO-2022-1059) or a variable name. A trailing "/..." matches the path
	// and everything below it.
	Subject string `yaml:"subject"`
	// ID is an alias of Subject for vulnerability IDs.
	ID string `yaml:"id"`
	// Module limits the ignore to one module of the repository (its path).
	Module string `yaml:"module"`
	// Reason says why; it is required.
	Reason string `yaml:"reason"`
	// Expires is an optional date (YYYY-MM-DD) after which the ignore no
	// longer applies and is itself reported.
	Expires string `yaml:"expires"`
	// Line is the line of the entry in the file.
	Line int `yaml:"-"`
	// Until is Expires parsed (zero when there is no expiry).
	Until time.Time `yaml:"-"`
}

// Twin is a pair of module paths that hold the same code.
type Twin struct {
	Old    string `yaml:"old"`
	New    string `yaml:"new"`
	Reason string `yaml:"reason"`
}

// Family is a set of modules released together.
type Family struct {
	Name string `yaml:"name"`
	// Prefixes are module path prefixes whose modules belong to the family.
	Prefixes []string `yaml:"prefixes"`
	// Modules are exact member paths.
	Modules []string `yaml:"modules"`
	// Match says how versions of members correspond: "exact" (the same
	// version, the default), "minor" (same major.minor), "k8s" (staging
	// modules v0.X.Y beside k8s.io/kubernetes v1.X.Y), "stable" (v1 members
	// share one version, v0 members are numbered apart and left out) or
	// "independent" (versioned per module: never a family, whatever the
	// requirements suggest). See docs/check.md.
	Match string `yaml:"match"`
}

// Matches are the values of Family.Match.
var Matches = []string{"exact", "minor", "k8s", "stable", "independent"}

// RunKeys are the keys of the run: map: the settings of `modhygiene run`
// that the file may set, named as the GitHub Action's inputs.
var RunKeys = []string{"mirrors", "cache", "build-cache", "tidy", "checks", "vuln", "vuln-db", "fail-on", "sarif", "only-new-issues", "proxy", "restore-timeout", "save-timeout"}

// Error is a problem in the configuration file, with its position.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats the problem as file:line: message.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Load reads FileName from dir. A missing file gives the default File.
func Load(dir string) (*File, error) {
	p := filepath.Join(dir, FileName)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &File{}, nil
	}
	if err != nil {
		return nil, err
	}
	return Parse(p, data)
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// Parse parses the configuration in data; name is used only in messages.
func Parse(name string, data []byte) (*File, error) {
	f := &File{Path: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(name, err)
	}
	if len(doc.Content) == 0 {
		return f, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil && err != io.EOF {
		return nil, yamlError(name, err)
	}
	f.Path = name
	if err := f.validate(doc.Content[0]); err != nil {
		return nil, err
	}
	return f, nil
}

func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &line)
		msg = m[2]
	} else if m := regexp.MustCompile(`^line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
		fmt.Sscan(m[1], &line)
		msg = m[2]
	}
	return &Error{File: name, Line: line, Msg: msg}
}

func (f *File) validate(root *yaml.Node) error {
	for _, check := range []func(*yaml.Node) error{f.validateRules, f.validateIgnores, f.validateTwins, f.validateFamilies, f.validateRun} {
		if err := check(root); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) validateRules(root *yaml.Node) error {
	for _, id := range slices.Sorted(maps.Keys(f.Rules)) {
		line := keyLine(root, "rules", id)
		if r, ok := finding.Lookup(id); !ok || r.ID == finding.FailedRule {
			return &Error{f.Path, line, fmt.Sprintf("rules: unknown rule ID %q (want one of %s)", id, ruleList())}
		}
		switch strings.ToLower(f.Rules[id]) {
		case "info", "warning", "error", "off":
		default:
			return &Error{f.Path, line, fmt.Sprintf("rules: %s: severity %q: want info, warning, error or off", id, f.Rules[id])}
		}
	}
	return nil
}

// ruleList names the rules a file may configure.
func ruleList() string {
	var ids []string
	for _, r := range finding.Rules {
		if r.ID != finding.FailedRule {
			ids = append(ids, r.ID)
		}
	}
	return strings.Join(ids, ", ")
}

func (f *File) validateIgnores(root *yaml.Node) error {
	items := seqItems(root, "ignore")
	for i := range f.Ignore {
		ig := &f.Ignore[i]
		var item *yaml.Node
		if i < len(items) {
			item = items[i]
			ig.Line = item.Line
		}
		if err := f.validateIgnore(ig, item); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) validateTwins(root *yaml.Node) error {
	items := seqItems(root, "twins")
	for i, t := range f.Twins {
		if t.Old == "" || t.New == "" {
			return &Error{f.Path, itemLine(items, i), "twins: an entry needs old and new module paths"}
		}
	}
	return nil
}

func (f *File) validateFamilies(root *yaml.Node) error {
	items := seqItems(root, "families")
	for i, fam := range f.Families {
		if fam.Match != "" && !slices.Contains(Matches, strings.ToLower(fam.Match)) {
			line := itemLine(items, i)
			if i < len(items) {
				line = fieldLine(items[i], "match", line)
			}
			return &Error{f.Path, line, fmt.Sprintf("families: %s: match %q: want %s", fam.Name, fam.Match, strings.Join(Matches, ", "))}
		}
		if len(fam.Prefixes) == 0 && len(fam.Modules) == 0 {
			return &Error{f.Path, itemLine(items, i), fmt.Sprintf("families: %s: a family needs prefixes or modules", fam.Name)}
		}
	}
	return nil
}

func (f *File) validateRun(root *yaml.Node) error {
	for _, k := range slices.Sorted(maps.Keys(f.Run)) {
		if !slices.Contains(RunKeys, k) {
			return &Error{f.Path, keyLine(root, "run", k), fmt.Sprintf("run: unknown key %q; valid keys: %s", k, strings.Join(RunKeys, ", "))}
		}
	}
	return nil
}

// itemLine is the line of the i-th item of a sequence, 0 when unknown.
func itemLine(items []*yaml.Node, i int) int {
	if i < len(items) {
		return items[i].Line
	}
	return 0
}

// fieldLine is the line of key in the mapping n, else def.
func fieldLine(n *yaml.Node, key string, def int) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return def
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return def
}

func (f *File) validateIgnore(ig *Ignore, item *yaml.Node) error {
	if ig.Subject == "" {
		ig.Subject = ig.ID
	}
	if ig.Rule == "" && ig.Subject == "" {
		return &Error{f.Path, ig.Line, "ignore: an entry needs a rule, a subject or an id"}
	}
	if r, ok := finding.Lookup(ig.Rule); ig.Rule != "" && (!ok || r.ID == finding.FailedRule) {
		return &Error{f.Path, fieldLine(item, "rule", ig.Line), fmt.Sprintf("ignore: unknown rule ID %q (want one of %s)", ig.Rule, ruleList())}
	}
	if strings.TrimSpace(ig.Reason) == "" {
		return &Error{f.Path, ig.Line, "ignore: an entry needs a reason"}
	}
	if ig.Expires != "" {
		t, err := time.Parse(time.DateOnly, ig.Expires)
		if err != nil {
			return &Error{f.Path, fieldLine(item, "expires", ig.Line), fmt.Sprintf("ignore: expires %q: want a date as YYYY-MM-DD", ig.Expires)}
		}
		ig.Until = t
	}
	return nil
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func keyLine(root *yaml.Node, section, key string) int {
	sec := mapValue(root, section)
	if sec == nil {
		return 0
	}
	for i := 0; i+1 < len(sec.Content); i += 2 {
		if sec.Content[i].Value == key {
			return sec.Content[i].Line
		}
	}
	return sec.Line
}

func seqItems(root *yaml.Node, section string) []*yaml.Node {
	if sec := mapValue(root, section); sec != nil && sec.Kind == yaml.SequenceNode {
		return sec.Content
	}
	return nil
}
