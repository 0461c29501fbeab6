package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/modhygiene/modhygiene/internal/ci"

	"go.yaml.in/yaml/v3"

	"github.com/modhygiene/modhygiene/internal/config"
)

func TestParseInputBool(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"true", true, false}, {"True", true, false}, {"TRUE", true, false},
		{"false", false, false}, {"False", false, false}, {"FALSE", false, false},
		{"yes", false, true}, {"1", false, true}, {"", false, true}, {"tRuE", false, true},
	} {
		got, err := ci.ParseInputBool(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ci.ParseInputBool(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		v, def string
		want   bool
	}{
		{"false", "false", true}, {"False", "false", true}, {"FALSE", "false", true},
		{"true", "false", false}, {"auto", "auto", true}, {"current", "auto", false},
		{".", ".", true}, {"services", ".", false},
	} {
		if got := ci.SameInput(tc.v, tc.def); got != tc.want {
			t.Errorf("ci.SameInput(%q, %q) = %v, want %v", tc.v, tc.def, got, tc.want)
		}
	}
}

func TestRuleSelection(t *testing.T) {
	if got := ruleID("family-skew"); got != "MH004" {
		t.Errorf("ruleID(family-skew) = %q", got)
	}
	if got := ruleID("mh002"); got != "MH002" {
		t.Errorf("ruleID(mh002) = %q", got)
	}
	if got := ruleID("no-such-rule"); got != "" {
		t.Errorf("ruleID(no-such-rule) = %q", got)
	}
	all := &runSettings{}
	off := &runSettings{checkRules: map[string]bool{}}
	some := &runSettings{checkRules: map[string]bool{"MH002": true}}
	for _, tc := range []struct {
		s    *runSettings
		id   string
		want bool
	}{
		{all, "MH009", true}, {off, "MH009", false}, {off, "MH001", true}, {off, "MH010", true},
		{some, "MH002", true}, {some, "MH009", false}, {some, "MH001", true},
	} {
		rules := tc.s.rules()
		if got := rules == nil || rules[tc.id]; got != tc.want {
			t.Errorf("rule %s with %+v kept = %v, want %v", tc.id, tc.s, got, tc.want)
		}
	}
	if !off.checksOff() || some.checksOff() || all.checksOff() {
		t.Error("checksOff")
	}
}

// TestActionInputs keeps runKeys in step with action.yml: every input is a
// setting of run, with the same default (an input at its default does not
// override the configuration file).
func TestActionInputs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "action.yml"))
	if err != nil {
		t.Skip(err)
	}
	var action struct {
		Inputs map[string]struct {
			Default string `yaml:"default"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	for name, in := range action.Inputs {
		if slices.Contains(shimInputs, name) {
			continue
		}
		k, ok := runKeyNamed(name)
		if !ok {
			t.Errorf("action.yml input %q is not a setting of run", name)
			continue
		}
		if k.action != in.Default {
			t.Errorf("input %q: action.yml default %q, runKeys has %q", name, in.Default, k.action)
		}
	}
	for _, k := range runKeys {
		if _, ok := action.Inputs[k.name]; !ok && k.action != "" {
			t.Errorf("runKeys %q has an action default but action.yml has no such input", k.name)
		}
	}
}

// TestRunKeysInFile keeps the run: keys the configuration file accepts in
// step with the settings of run.
func TestRunKeysInFile(t *testing.T) {
	for _, name := range config.RunKeys {
		if _, ok := runKeyNamed(name); !ok {
			t.Errorf("config.RunKeys has %q, which is not a setting of run", name)
		}
	}
	for _, k := range runKeys {
		inFile := slices.Contains(config.RunKeys, k.name)
		if inFile == (k.name == "working-directory" || k.name == "config") {
			t.Errorf("setting %q: in the file's run: map = %v", k.name, inFile)
		}
	}
}
