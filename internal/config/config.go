// Package config reads .modhygiene.yaml, the repository's configuration file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileName is the name of the configuration file at the repository root.
const FileName = ".modhygiene.yaml"

// File is the parsed configuration file. Its zero value is the default
// configuration: every rule at its own severity, nothing ignored.
type File struct {
	// Path is where the file was read from ("" when there is none).
	Path string `yaml:"-"`
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
	// version, the default), "minor" (same major.minor), or "k8s" (v0.X
	// beside v1.X staging modules... see the check package).
	Match string `yaml:"match"`
}

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

var ruleIDRE = regexp.MustCompile(`^MH\d{3}$`)

func (f *File) validate(root *yaml.Node) error {
	for id, sev := range f.Rules {
		line := keyLine(root, "rules", id)
		if !ruleIDRE.MatchString(id) {
			return &Error{f.Path, line, fmt.Sprintf("rules: unknown rule ID %q (want MH001 to MH010)", id)}
		}
		switch strings.ToLower(sev) {
		case "info", "warning", "error", "off":
		default:
			return &Error{f.Path, line, fmt.Sprintf("rules: %s: severity %q: want info, warning, error or off", id, sev)}
		}
	}
	items := seqItems(root, "ignore")
	for i := range f.Ignore {
		ig := &f.Ignore[i]
		if i < len(items) {
			ig.Line = items[i].Line
		}
		if err := f.validateIgnore(ig); err != nil {
			return err
		}
	}
	return nil
}

func (f *File) validateIgnore(ig *Ignore) error {
	if ig.Subject == "" {
		ig.Subject = ig.ID
	}
	if ig.Rule == "" && ig.Subject == "" {
		return &Error{f.Path, ig.Line, "ignore: an entry needs a rule, a subject or an id"}
	}
	if ig.Rule != "" && !ruleIDRE.MatchString(ig.Rule) {
		return &Error{f.Path, ig.Line, fmt.Sprintf("ignore: unknown rule ID %q", ig.Rule)}
	}
	if strings.TrimSpace(ig.Reason) == "" {
		return &Error{f.Path, ig.Line, "ignore: an entry needs a reason"}
	}
	if ig.Expires != "" {
		t, err := time.Parse(time.DateOnly, ig.Expires)
		if err != nil {
			return &Error{f.Path, ig.Line, fmt.Sprintf("ignore: expires %q: want a date as YYYY-MM-DD", ig.Expires)}
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
