package cli

import (
	"errors"
	"path/filepath"
	"runtime"
)

// userCacheDir is os.UserCacheDir computed from the invocation's
// environment instead of the process's.
func (a *app) userCacheDir() (string, error) {
	switch runtime.GOOS {
	case "windows":
		if d := a.getenv("LocalAppData"); d != "" {
			return d, nil
		}
		return "", errors.New("LocalAppData is not set")
	case "darwin", "ios":
		if h := a.getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Caches"), nil
		}
	default:
		if d := a.getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
			return d, nil
		}
		if h := a.getenv("HOME"); h != "" {
			return filepath.Join(h, ".cache"), nil
		}
	}
	return "", errors.New("neither XDG_CACHE_HOME nor HOME is set")
}

// toolCacheDir returns modhygiene's directory under the user cache dir.
func (a *app) toolCacheDir(sub string) (string, error) {
	d, err := a.userCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "modhygiene", sub), nil
}

// abs resolves p against the invocation's working directory.
func (a *app) abs(p string) string {
	if p == "" {
		return a.cwd
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(a.cwd, p)
}
