package stage

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/modhygiene/modhygiene/internal/atomicfile"
	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// warn prints a warning for a person on env.Log, with any credentials in
// URLs it quotes redacted.
func warn(env *Env, format string, args ...any) {
	fmt.Fprintln(env.Log, ci.Redact(fmt.Sprintf("modhygiene: warning: "+format, args...)))
}

// notice prints a notice for a person on env.Log, redacted as warn does.
func notice(env *Env, format string, args ...any) {
	fmt.Fprintln(env.Log, ci.Redact(fmt.Sprintf("modhygiene: notice: "+format, args...)))
}

// modCache returns GOMODCACHE as the go command sees it in env, or "".
func modCache(ctx context.Context, env *Env) string {
	m, err := env.Go.GoEnv(ctx, env.Dir, "GOMODCACHE")
	if err != nil {
		return ""
	}
	return m["GOMODCACHE"]
}

// inside reports whether p is dir or below it.
func inside(p, dir string) bool {
	if dir == "" || p == "" {
		return false
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// writeFileAtomic writes data to path through a temporary file and a
// rename; a problem is ignored (callers keep only niceties this way).
func writeFileAtomic(path string, data []byte) {
	_ = atomicfile.Write(path, "", ".modhygiene-*", data, 0o600)
}

// firstLine returns s up to its first newline.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Plural returns one or many by n.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ToolDir is modhygiene's directory under the user cache directory,
// computed from the environment env as os.UserCacheDir does from
// the process's; "" when there is none.
func ToolDir(env []string) string {
	var base string
	switch runtime.GOOS {
	case "windows":
		base = gocmd.Lookup(env, "LocalAppData")
	case "darwin", "ios":
		if h := gocmd.Lookup(env, "HOME"); h != "" {
			base = filepath.Join(h, "Library", "Caches")
		}
	default:
		if d := gocmd.Lookup(env, "XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
			base = d
		} else if h := gocmd.Lookup(env, "HOME"); h != "" {
			base = filepath.Join(h, ".cache")
		}
	}
	if base == "" {
		return ""
	}
	return filepath.Join(base, "modhygiene")
}
