package dist_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository root, two levels above this package.
var root = filepath.Join("..", "..")

func read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// documents decodes every YAML document in data.
func documents(t *testing.T, name string, data []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, d)
	}
	return docs
}

// get walks a decoded YAML value by map keys and list indexes ("0", "1").
func get(t *testing.T, v any, path ...string) any {
	t.Helper()
	for i, k := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				t.Fatalf("no %q at %s", k, strings.Join(path[:i], "."))
			}
		case []any:
			n, err := strconv.Atoi(k)
			if err != nil || n < 0 || n >= len(x) {
				t.Fatalf("no element %s at %s", k, strings.Join(path[:i], "."))
			}
			v = x[n]
		default:
			t.Fatalf("%s is a %T, not a map or list", strings.Join(path[:i], "."), v)
		}
	}
	return v
}

func str(t *testing.T, v any, path ...string) string {
	t.Helper()
	s, ok := get(t, v, path...).(string)
	if !ok {
		t.Fatalf("%s is %T, not a string", strings.Join(path, "."), get(t, v, path...))
	}
	return s
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var inputRef = regexp.MustCompile(`\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*\]\]`)

func TestGitLabInclude(t *testing.T) {
	const name = ".gitlab/modhygiene.gitlab-ci.yml"
	data := read(t, name)
	docs := documents(t, name, data)
	if len(docs) != 2 {
		t.Fatalf("%s has %d documents, want 2 (the spec header, ---, the job)", name, len(docs))
	}
	if len(docs[0]) != 1 || docs[0]["spec"] == nil {
		t.Fatalf("first document has keys %v, want only spec", keys(docs[0]))
	}
	inputs, ok := get(t, docs[0], "spec", "inputs").(map[string]any)
	if !ok {
		t.Fatal("spec.inputs is not a map")
	}
	for _, in := range []string{"stage", "image", "args", "working-directory", "fail-on"} {
		if inputs[in] == nil {
			t.Errorf("spec.inputs has no %s", in)
		}
	}
	defaults := map[string]string{}
	for in, v := range inputs {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("input %s is %T", in, v)
		}
		if m["description"] == nil {
			t.Errorf("input %s has no description", in)
		}
		d, ok := m["default"]
		if !ok {
			t.Errorf("input %s has no default: the include must work without inputs", in)
			continue
		}
		if opts, ok := m["options"].([]any); ok && !slices.Contains(opts, d) {
			t.Errorf("input %s: default %v is not one of its options %v", in, d, opts)
		}
		if re, ok := m["regex"].(string); ok {
			if !regexp.MustCompile(re).MatchString(d.(string)) {
				t.Errorf("input %s: default %q does not match its regex %s", in, d, re)
			}
		}
		switch d := d.(type) {
		case string:
			defaults[in] = d
		case bool:
			defaults[in] = map[bool]string{true: "true", false: "false"}[d]
		default:
			t.Errorf("input %s: default of type %T", in, d)
		}
	}
	if got := get(t, inputs, "fail-on", "default"); got != "warning" {
		t.Errorf("fail-on default %v, want warning (as the command's --fail-on)", got)
	}

	// Every input is used, and only declared inputs are.
	_, body, _ := bytes.Cut(data, []byte("\n---\n"))
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

	// The job as GitLab sees it with the default inputs.
	expanded := inputRef.ReplaceAllFunc(body, func(m []byte) []byte {
		return []byte(defaults[string(inputRef.FindSubmatch(m)[1])])
	})
	var job map[string]any
	{
		var d map[string]any
		if err := yaml.Unmarshal(expanded, &d); err != nil {
			t.Fatalf("job with default inputs: %v\n%s", err, expanded)
		}
		if len(d) != 1 || d["modhygiene"] == nil {
			t.Fatalf("job document has keys %v, want one job named modhygiene", keys(d))
		}
		job = d["modhygiene"].(map[string]any)
	}
	if got := str(t, job, "stage"); got != "test" {
		t.Errorf("stage = %q", got)
	}
	if got := str(t, job, "image", "name"); !strings.Contains(got, "modhygiene") {
		t.Errorf("image = %q, want the project's image", got)
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

	caches, ok := get(t, job, "cache").([]any)
	if !ok || len(caches) == 0 || len(caches) > 4 {
		t.Fatalf("cache = %v, want a list of 1 to 4 caches", get(t, job, "cache"))
	}
	var fallbacks []string
	for i, c := range caches {
		c := c.(map[string]any)
		paths := c["paths"].([]any)
		if len(paths) != 1 || strings.TrimSuffix(paths[0].(string), "/") != rel {
			t.Errorf("cache %d paths = %v, want GOMODCACHE (%s)", i, paths, rel)
		}
		if c["when"] != "always" {
			t.Errorf("cache %d when = %v, want always (a job failing on findings still saves)", i, c["when"])
		}
		if fk, ok := c["fallback_keys"].([]any); ok {
			for _, k := range fk {
				fallbacks = append(fallbacks, k.(string))
			}
		}
	}
	first := caches[0].(map[string]any)
	files, ok := get(t, first, "key", "files").([]any)
	if !ok || len(files) == 0 || len(files) > 2 {
		t.Fatalf("first cache key.files = %v, want one or two patterns", get(t, first, "key"))
	}
	if files[0] != "go.sum" {
		t.Errorf("first cache is keyed on %v, want go.sum first", files)
	}
	if len(fallbacks) == 0 || len(fallbacks) > 5 {
		t.Errorf("fallback_keys = %v, want one to five", fallbacks)
	}
	// A fallback key is an exact name: it must be one that a cache of this
	// job writes (on this branch, or on the default branch).
	written := map[string]bool{}
	for _, c := range caches[1:] {
		if k, ok := c.(map[string]any)["key"].(string); ok && c.(map[string]any)["policy"] != "pull" {
			written[k] = true
			written[strings.ReplaceAll(k, "$CI_COMMIT_REF_SLUG", "$CI_DEFAULT_BRANCH")] = true
		}
	}
	for _, k := range fallbacks {
		if !written[k] {
			t.Errorf("fallback key %q is never written by the job", k)
		}
	}

	script := get(t, job, "script").([]any)
	if len(script) != 1 {
		t.Fatalf("script = %v, want one command", script)
	}
	cmd := script[0].(string)
	if !strings.HasPrefix(cmd, "modhygiene run ") {
		t.Errorf("script runs %q, want modhygiene run", cmd)
	}
	for _, want := range []string{"--fail-on warning", `--dir "."`, "gl-code-quality-report.json", "modhygiene-mirrors.env"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("script %q lacks %q", cmd, want)
		}
	}
	if !bytes.Contains(body, []byte("$[[ inputs.args ]]")) {
		t.Error("script does not pass $[[ inputs.args ]]")
	}

	if got := str(t, job, "artifacts", "reports", "codequality"); got != "gl-code-quality-report.json" {
		t.Errorf("codequality report = %q", got)
	}
	if got := str(t, job, "artifacts", "reports", "dotenv"); !strings.Contains(cmd, `"$CI_PROJECT_DIR/`+got+`"`) {
		t.Errorf("dotenv report %q is not the file the script writes", got)
	}
	if got := str(t, job, "artifacts", "when"); got != "always" {
		t.Errorf("artifacts.when = %q, want always: the report matters most when findings fail the job", got)
	}

	var mr, def bool
	for _, r := range get(t, job, "rules").([]any) {
		cond := r.(map[string]any)["if"].(string)
		mr = mr || strings.Contains(cond, `$CI_PIPELINE_SOURCE == "merge_request_event"`)
		def = def || strings.Contains(cond, "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")
	}
	if !mr || !def {
		t.Errorf("rules: merge-request pipelines %v, default branch %v; want both", mr, def)
	}
}

func TestPreCommitHooks(t *testing.T) {
	var hooks []map[string]any
	if err := yaml.Unmarshal(read(t, ".pre-commit-hooks.yaml"), &hooks); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"modhygiene-tidy":     "modhygiene tidy",
		"modhygiene-tidy-fix": "modhygiene tidy --fix",
		"modhygiene-check":    "modhygiene check",
	}
	seen := map[string]bool{}
	for _, h := range hooks {
		id, _ := h["id"].(string)
		entry, ok := want[id]
		if !ok {
			t.Errorf("unexpected hook %q", id)
			continue
		}
		seen[id] = true
		if h["entry"] != entry {
			t.Errorf("%s: entry %v, want %q", id, h["entry"], entry)
		}
		if h["language"] != "golang" || h["pass_filenames"] != false || h["require_serial"] != true {
			t.Errorf("%s: language %v, pass_filenames %v, require_serial %v; want golang, false, true",
				id, h["language"], h["pass_filenames"], h["require_serial"])
		}
		if h["name"] == nil {
			t.Errorf("%s has no name", id)
		}
		// pre-commit matches files with Python's re.search; this pattern is
		// also valid RE2.
		files := regexp.MustCompile(h["files"].(string))
		for _, p := range []string{"go.mod", "go.sum", "go.work", "go.work.sum", "svc/api/go.mod", "svc/go.sum", "main.go", "internal/x/x_test.go"} {
			if !files.MatchString(p) {
				t.Errorf("%s: files does not match %s", id, p)
			}
		}
		for _, p := range []string{"README.md", "go.mod.orig", "notgo.mod", "docs/go.md", "x.gox"} {
			if files.MatchString(p) {
				t.Errorf("%s: files matches %s", id, p)
			}
		}
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("no hook %s", id)
		}
	}
}

func TestWorkflows(t *testing.T) {
	var rel map[string]any
	if err := yaml.Unmarshal(read(t, ".github/workflows/release.yml"), &rel); err != nil {
		t.Fatal(err)
	}
	text := string(read(t, ".github/workflows/release.yml"))
	for _, want := range []string{"checksums.txt", "sha256sum", "modhygiene_", "ghcr.io", "internal/cli.Version="} {
		if !strings.Contains(text, want) {
			t.Errorf("release.yml lacks %q", want)
		}
	}
	for _, goos := range []string{"linux", "darwin", "windows"} {
		for _, goarch := range []string{"amd64", "arm64"} {
			if !strings.Contains(text, goos) || !strings.Contains(text, goarch) {
				t.Errorf("release.yml does not build %s/%s", goos, goarch)
			}
		}
	}
	var ci map[string]any
	if err := yaml.Unmarshal(read(t, ".github/workflows/ci.yml"), &ci); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(read(t, ".github/workflows/ci.yml")), "uses: ./\n") {
		t.Error("ci.yml does not run the project's own action (uses: ./)")
	}
}
