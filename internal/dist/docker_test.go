package dist_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper-cased: FROM, RUN, ...
	args string
}

// parseDockerfile splits a Dockerfile into instructions (comments and
// parser directives dropped, backslash continuations joined).
func parseDockerfile(data string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	text := string(read(t, "Dockerfile"))
	args, stages := dockerStages(parseDockerfile(text))
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a multi-stage build", len(stages))
	}
	digest := regexp.MustCompile(`^golang:1\.2[6-9][.0-9]*(-[a-z]+)?@sha256:[0-9a-f]{64}$`)
	for i, st := range stages {
		from := os.Expand(st[0].args, func(k string) string { return args[k] })
		fields := strings.Fields(from)
		image := fields[0]
		if strings.HasPrefix(image, "--platform=") {
			image = fields[1]
		}
		if !digest.MatchString(image) {
			t.Errorf("stage %d (line %d): base image %q, want a Go 1.26+ toolchain image pinned by digest", i, st[0].line, image)
		}
	}
	checkBuildStage(t, stages[0])
	checkFinalStage(t, stages[len(stages)-1])
	if !strings.Contains(text, `--user "$(id -u):$(id -g)"`) {
		t.Error(`the Dockerfile's comment does not show --user "$(id -u):$(id -g)" for bind mounts`)
	}
	// The stamped variable exists.
	cli := read(t, "internal/cli/cli.go")
	if !regexp.MustCompile(`(?m)^var Version = `).Match(cli) {
		t.Error("internal/cli.Version, stamped by the Dockerfile, is gone")
	}
}

// dockerStages splits the instructions into stages, and returns the
// global ARG defaults (before the first FROM), which expand in FROM lines.
func dockerStages(ins []instruction) (map[string]string, [][]instruction) {
	args := map[string]string{}
	var stages [][]instruction
	for _, in := range ins {
		switch {
		case in.cmd == "FROM":
			stages = append(stages, nil)
		case len(stages) == 0 && in.cmd == "ARG":
			if k, v, ok := strings.Cut(in.args, "="); ok {
				args[k] = v
			}
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	return args, stages
}

// checkBuildStage: the build stage runs on the build machine and
// cross-compiles.
func checkBuildStage(t *testing.T, build []instruction) {
	if !strings.HasPrefix(build[0].args, "--platform=$BUILDPLATFORM ") {
		t.Errorf("build stage: FROM %s, want FROM --platform=$BUILDPLATFORM (cross-compile, no emulation)", build[0].args)
	}
	var declared, compiled bool
	for _, in := range build {
		declared = declared || in.cmd == "ARG" && strings.Contains(in.args, "TARGETOS") && strings.Contains(in.args, "TARGETARCH")
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			compiled = strings.Contains(in.args, "GOOS=$TARGETOS") && strings.Contains(in.args, "GOARCH=$TARGETARCH") &&
				strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "github.com/modhygiene/modhygiene/internal/cli.Version=")
		}
	}
	if !declared || !compiled {
		t.Errorf("build stage: ARG TARGETOS TARGETARCH declared %v; go build with CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH and the version stamp %v", declared, compiled)
	}
}

// checkFinalStage: the final stage runs as an unprivileged user.
func checkFinalStage(t *testing.T, final []instruction) {
	user := ""
	var entry bool
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args == `["modhygiene"]`
		case "COPY":
			if strings.Contains(in.args, "/usr/local/bin/modhygiene") && user != "" {
				t.Errorf("line %d: the binary is copied after USER: it would belong to the user", in.line)
			}
		}
	}
	if !regexp.MustCompile(`^[1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(user) {
		t.Errorf("final stage: USER %q, want a numeric non-root uid (runAsNonRoot can only check a number)", user)
	}
	if !entry {
		t.Error(`final stage: want ENTRYPOINT ["modhygiene"]`)
	}
}

// TestDockerfileLint validates the Dockerfile with dockerfile-utils (npm;
// .ci/run installs it). No Docker engine is needed, nor is one here.
func TestDockerfileLint(t *testing.T) {
	bin := os.Getenv("MODHYGIENE_DOCKERFILE_UTILS")
	if bin == "" {
		p, err := exec.LookPath("dockerfile-utils")
		if err != nil {
			t.Skip("dockerfile-utils is not installed (npm install dockerfile-utils, or bash .ci/run)")
		}
		bin = p
	}
	abs, err := filepath.Abs(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "lint", abs).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("dockerfile-utils lint Dockerfile: %v\n%s", err, out)
	}
	// The linter can fail.
	bad := filepath.Join(t.TempDir(), "Dockerfile")
	if err := os.WriteFile(bad, []byte("FROM scratch\nUSER\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "lint", bad).CombinedOutput(); err == nil {
		t.Errorf("dockerfile-utils accepts USER without an argument:\n%s", out)
	}
}
