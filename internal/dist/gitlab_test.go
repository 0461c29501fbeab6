package dist_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// component is the GitLab CI/CD catalog component; legacyInclude is the
// file that `include: project:` users of earlier versions name, kept
// identical to it.
const (
	component     = "templates/modhygiene.yml"
	legacyInclude = ".gitlab/modhygiene.gitlab-ci.yml"
)

var inputRef = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)

// specInputs returns the spec: inputs of the component and the job text
// after the --- separator.
func specInputs(t *testing.T) (map[string]map[string]any, []byte) {
	t.Helper()
	data := read(t, component)
	docs := documents(t, component, data)
	if len(docs) != 2 {
		t.Fatalf("%s has %d documents, want 2 (the spec header, ---, the job)", component, len(docs))
	}
	if len(docs[0]) != 1 || docs[0]["spec"] == nil {
		t.Fatalf("first document has keys %v, want only spec", keys(docs[0]))
	}
	raw, ok := get(t, docs[0], "spec", "inputs").(map[string]any)
	if !ok {
		t.Fatal("spec.inputs is not a map")
	}
	inputs := map[string]map[string]any{}
	for k, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("input %s is %T", k, v)
		}
		inputs[k] = m
	}
	_, body, ok := bytes.Cut(data, []byte("\n---\n"))
	if !ok {
		t.Fatalf("%s has no --- line", component)
	}
	return inputs, body
}

// inputString renders an input's value as GitLab interpolates it.
func inputString(t *testing.T, v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return fmt.Sprint(v)
	default:
		t.Fatalf("input value of type %T", v)
		return ""
	}
}

// expandJob interpolates the component with the given inputs (defaults for
// the others) and returns its one job, as GitLab sees it.
func expandJob(t *testing.T, with map[string]string) (string, map[string]any) {
	t.Helper()
	inputs, body := specInputs(t)
	expanded := inputRef.ReplaceAllFunc(body, func(m []byte) []byte {
		name := string(inputRef.FindSubmatch(m)[1])
		if v, ok := with[name]; ok {
			return []byte(v)
		}
		return []byte(inputString(t, inputs[name]["default"]))
	})
	var jobs map[string]map[string]any
	if err := yaml.Unmarshal(expanded, &jobs); err != nil {
		t.Fatalf("job with inputs %v: %v\n%s", with, err, expanded)
	}
	if len(jobs) != 1 {
		t.Fatalf("the component defines %d jobs, want 1", len(jobs))
	}
	for name, job := range jobs {
		return name, job
	}
	panic("unreachable")
}

func TestGitLabComponent(t *testing.T) {
	if !bytes.Equal(read(t, component), read(t, legacyInclude)) {
		t.Errorf("%s differs from %s: keep the include users already name identical to the component", legacyInclude, component)
	}
	inputs, body := specInputs(t)
	for _, in := range []string{"stage", "job-name", "version", "image", "args", "working-directory", "fail-on", "allow-failure"} {
		if inputs[in] == nil {
			t.Errorf("spec.inputs has no %s", in)
		}
	}
	for in, m := range inputs {
		checkInput(t, in, m)
	}
	if got := inputs["fail-on"]["default"]; got != "warning" {
		t.Errorf("fail-on default %v, want warning (as the command's --fail-on)", got)
	}
	if v, _ := inputs["version"]["default"].(string); !regexp.MustCompile(`^v\d+\.\d+\.\d+$`).MatchString(v) {
		t.Errorf("version default %q, want the release this file belongs to (vX.Y.Z)", v)
	}
	// Every input is used, and only declared inputs are.
	used := map[string]bool{}
	for _, m := range inputRef.FindAllSubmatch(body, -1) {
		used[string(m[1])] = true
		if _, ok := inputs[string(m[1])]; !ok {
			t.Errorf("job uses undeclared input %s", m[1])
		}
	}
	for in := range inputs {
		if !used[in] {
			t.Errorf("input %s is declared but not used", in)
		}
	}
	name, job := expandJob(t, nil)
	if name != "modhygiene" {
		t.Errorf("job name %q, want modhygiene", name)
	}
	checkJob(t, job)
	if n, _ := expandJob(t, map[string]string{"job-name": "deps-api"}); n != "deps-api" {
		t.Errorf("job-name input: job named %q", n)
	}
}

// checkInput checks one input: described, with a default that its own
// options and regex accept.
func checkInput(t *testing.T, in string, m map[string]any) {
	t.Helper()
	if m["description"] == nil {
		t.Errorf("input %s has no description", in)
	}
	d, ok := m["default"]
	if !ok {
		t.Errorf("input %s has no default: the component must work without inputs", in)
		return
	}
	if opts, ok := m["options"].([]any); ok && !slices.Contains(opts, d) {
		t.Errorf("input %s: default %v is not one of its options %v", in, d, opts)
	}
	if re, ok := m["regex"].(string); ok && !regexp.MustCompile(re).MatchString(inputString(t, d)) {
		t.Errorf("input %s: default %q does not match its regex %s", in, d, re)
	}
}

// checkJob checks the job with its default inputs.
func checkJob(t *testing.T, job map[string]any) {
	t.Helper()
	if got := str(t, job, "stage"); got != "test" {
		t.Errorf("stage = %q", got)
	}
	inputs, _ := specInputs(t)
	wantImage := fmt.Sprintf("%s:%s", inputs["image"]["default"], inputs["version"]["default"])
	if got := str(t, job, "image", "name"); got != wantImage {
		t.Errorf("image = %q, want %q: the image tag follows the component's version", got, wantImage)
	}
	if got := get(t, job, "image", "entrypoint"); !slices.Equal(got.([]any), []any{""}) {
		t.Errorf("image.entrypoint = %v, want [\"\"] (the image's entrypoint is modhygiene)", got)
	}
	if got := get(t, job, "allow_failure"); got != false {
		t.Errorf("allow_failure = %v", got)
	}
	gomodcache := str(t, job, "variables", "GOMODCACHE")
	rel, ok := strings.CutPrefix(gomodcache, "$CI_PROJECT_DIR/")
	if !ok {
		t.Fatalf("GOMODCACHE = %q, want a path inside $CI_PROJECT_DIR", gomodcache)
	}
	for i, c := range cacheEntries(t, job) {
		if len(c.Paths) != 1 || strings.TrimSuffix(c.Paths[0], "/") != rel {
			t.Errorf("cache %d paths = %v, want GOMODCACHE (%s)", i, c.Paths, rel)
		}
		if c.When != "always" {
			t.Errorf("cache %d when = %v, want always (a job failing on findings still saves)", i, c.When)
		}
	}
	script := get(t, job, "script").([]any)
	if len(script) != 1 {
		t.Fatalf("script = %v, want one command", script)
	}
	cmd := script[0].(string)
	for _, want := range []string{"modhygiene run ", "--fail-on warning", `--dir "."`, `--codequality "$CI_PROJECT_DIR/gl-code-quality-report.json"`} {
		if !strings.Contains(cmd, want) {
			t.Errorf("script %q lacks %q", cmd, want)
		}
	}
	dotenv := str(t, job, "artifacts", "reports", "dotenv")
	if !strings.Contains(cmd, `--dotenv "$CI_PROJECT_DIR/`+dotenv+`"`) {
		t.Errorf("dotenv report %q is not the file the script writes", dotenv)
	}
	after, _ := get(t, job, "after_script").([]any)
	if len(after) != 1 || !strings.Contains(after[0].(string), `>> "$CI_PROJECT_DIR/`+dotenv+`"`) {
		t.Errorf("after_script = %v, want it to create %s when the run wrote none (--mirrors=off)", after, dotenv)
	}
	if got := str(t, job, "artifacts", "reports", "codequality"); got != "gl-code-quality-report.json" {
		t.Errorf("codequality report = %q", got)
	}
	if got := str(t, job, "artifacts", "when"); got != "always" {
		t.Errorf("artifacts.when = %q, want always: the report matters most when findings fail the job", got)
	}
}

// cacheEntry is one element of a job's cache: list.
type cacheEntry struct {
	Key          any      `yaml:"key"`
	FallbackKeys []string `yaml:"fallback_keys"`
	Paths        []string `yaml:"paths"`
	Policy       string   `yaml:"policy"`
	When         string   `yaml:"when"`
	Unprotect    bool     `yaml:"unprotect"`
}

func cacheEntries(t *testing.T, job map[string]any) []cacheEntry {
	t.Helper()
	data, err := yaml.Marshal(job["cache"])
	if err != nil {
		t.Fatal(err)
	}
	var cs []cacheEntry
	if err := yaml.Unmarshal(data, &cs); err != nil {
		t.Fatalf("cache: %v", err)
	}
	if len(cs) == 0 || len(cs) > 4 {
		t.Fatalf("cache has %d entries, want 1 to 4", len(cs))
	}
	return cs
}

// pipeline is where a job runs, as GitLab's cache keys see it.
type pipeline struct {
	vars      map[string]string
	protected bool
	// gosum stands for the content of go.sum (the key: files: hash).
	gosum string
}

// ruleVars returns the variables of the first rule of job whose if: holds
// in p; ok is false when no rule holds (the job does not run).
func ruleVars(t *testing.T, job map[string]any, p pipeline) (map[string]string, bool) {
	t.Helper()
	operand := func(s string) string {
		s = strings.TrimSpace(s)
		if v, ok := strings.CutPrefix(s, "$"); ok {
			return p.vars[v]
		}
		if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
			return s[1 : len(s)-1]
		}
		t.Fatalf("rules: cannot evaluate operand %q", s)
		return ""
	}
	for _, r := range get(t, job, "rules").([]any) {
		r := r.(map[string]any)
		l, rgt, ok := strings.Cut(r["if"].(string), "==")
		if !ok || strings.ContainsAny(rgt, "&|!=") {
			t.Fatalf("rules: cannot evaluate %q", r["if"])
		}
		if operand(l) != operand(rgt) {
			continue
		}
		out := map[string]string{}
		if vs, ok := r["variables"].(map[string]any); ok {
			for k, v := range vs {
				out[k] = v.(string)
			}
		}
		return out, true
	}
	return nil, false
}

// cacheKeys returns the full cache keys the job reads, in the order the
// runner tries them for each entry, and the keys it writes, in pipeline p:
// variables expanded (a rule's over the job's over the pipeline's), key: files: replaced by its prefix and the go.sum
// stand-in, and GitLab's protection suffix added (-protected on a
// protected ref unless unprotect: true, else -non_protected; fallback keys
// get it too).
func cacheKeys(t *testing.T, job map[string]any, p pipeline) (reads [][]string, writes []string) {
	t.Helper()
	rv, ok := ruleVars(t, job, p)
	if !ok {
		t.Fatalf("the job does not run in pipeline %v", p.vars)
	}
	jobVars, _ := job["variables"].(map[string]any)
	expand := func(s string) string {
		return os.Expand(s, func(k string) string {
			if v, ok := rv[k]; ok {
				return v
			}
			if v, ok := jobVars[k].(string); ok {
				return v
			}
			v, ok := p.vars[k]
			if !ok {
				t.Fatalf("cache key %q uses $%s, which this model does not know", s, k)
			}
			return v
		})
	}
	for _, c := range cacheEntries(t, job) {
		suffix := "-non_protected"
		if p.protected && !c.Unprotect {
			suffix = "-protected"
		}
		var key string
		switch k := c.Key.(type) {
		case string:
			key = expand(k)
		case map[string]any:
			key = expand(k["prefix"].(string)) + "-files(" + p.gosum + ")"
		default:
			t.Fatalf("cache key %v", c.Key)
		}
		switch policy := expand(c.Policy); policy {
		case "pull", "pull-push", "":
			try := []string{key + suffix}
			for _, f := range c.FallbackKeys {
				try = append(try, expand(f)+suffix)
			}
			reads = append(reads, try)
			if policy != "pull" {
				writes = append(writes, key+suffix)
			}
		case "push":
			writes = append(writes, key+suffix)
		default:
			t.Fatalf("cache policy %q (%q)", policy, c.Policy)
		}
	}
	return reads, writes
}

// TestGitLabCacheKeys checks the component's cache design against GitLab's
// key rules: a merge request's first pipeline starts from the default
// branch's cache, and the default branch never reads a key an unprotected
// ref could write (cache poisoning).
func TestGitLabCacheKeys(t *testing.T) {
	_, job := expandJob(t, nil)
	mainVars := map[string]string{"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_SLUG": "main", "CI_DEFAULT_BRANCH": "main"}
	mrVars := map[string]string{"CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_SLUG": "feature", "CI_DEFAULT_BRANCH": "main"}
	main1 := pipeline{vars: mainVars, protected: true, gosum: "A"}
	main2 := pipeline{vars: mainVars, protected: true, gosum: "B"}
	mr1 := pipeline{vars: mrVars, gosum: "C"}
	mr2 := pipeline{vars: mrVars, gosum: "D"}

	store := map[string]bool{}
	// restores says whether some entry of the job finds a key in store.
	restores := func(p pipeline) bool {
		reads, _ := cacheKeys(t, job, p)
		for _, try := range reads {
			for _, k := range try {
				if store[k] {
					return true
				}
			}
		}
		return false
	}
	save := func(p pipeline) {
		_, writes := cacheKeys(t, job, p)
		for _, k := range writes {
			store[k] = true
		}
	}
	if restores(main1) {
		t.Fatal("an empty cache restores something")
	}
	save(main1)
	if !restores(main2) {
		t.Errorf("after a go.sum change the default branch does not fall back to its own last cache; it reads %v, the store has %v", first(cacheKeys(t, job, main2)), store)
	}
	if !restores(mr1) {
		t.Errorf("a merge request's first pipeline does not restore the default branch's cache; it reads %v, the store has %v", first(cacheKeys(t, job, mr1)), store)
	}
	save(mr1)
	if !restores(mr2) {
		t.Error("a merge request's second pipeline, after a go.sum change, restores nothing")
	}
	for _, p := range []pipeline{main1, main2} {
		reads, _ := cacheKeys(t, job, p)
		for _, try := range reads {
			for _, k := range try {
				if strings.HasSuffix(k, "-non_protected") {
					t.Errorf("the default branch reads %s, which an unprotected ref can write", k)
				}
			}
		}
	}
	for k := range store {
		if strings.Contains(k, "unused") {
			t.Errorf("key %s is written: the merge request's no-op key must never be", k)
		}
	}
}

func first[A, B any](a A, _ B) A { return a }
