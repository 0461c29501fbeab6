// Package stores opens the cache store a setting names. It is the one
// place that knows every backend (local, github, s3), kept apart from
// package store so that the backends can import store without a cycle.
package stores

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/github"
	"github.com/modhygiene/modhygiene/internal/cache/store/local"
	"github.com/modhygiene/modhygiene/internal/cache/store/s3"
	"github.com/modhygiene/modhygiene/internal/ci"
)

// Kind is the kind of store a spec names.
type Kind int

// The kinds of store.
const (
	// None is no store: the caches are neither restored nor saved.
	None Kind = iota
	// File is a directory (file:///PATH, or the user cache directory).
	File
	// GitHub is the GitHub Actions cache service.
	GitHub
	// S3 is an S3-compatible object store.
	S3
	// InProject is GitLab's own cache: of a GOMODCACHE inside the project
	// directory, which the runner restores and saves; modhygiene only
	// checks and prunes it, and opens no store.
	InProject
)

// String returns the kind's name as specs spell it.
func (k Kind) String() string {
	return [...]string{"none", "file", "github", "s3", "gitlab"}[k]
}

// Options are what Open needs besides the spec. The zero value opens
// nothing by default (no user cache directory).
type Options struct {
	// CacheDir is modhygiene's directory under the user cache directory;
	// the default store on a laptop is CacheDir/store.
	CacheDir string
	// Getenv reads the store's own credentials (AWS_ACCESS_KEY_ID, ...).
	Getenv func(string) string
	// Log receives the GitHub masking commands and warnings; nil discards.
	Log io.Writer
}

// ErrUsage marks a spec that is malformed: a usage error, unlike a store
// that cannot be reached.
var ErrUsage = errors.New("invalid store")

// Usage is the forms a store setting may take, for messages.
const Usage = "file:///PATH, github, s3://BUCKET/PREFIX?endpoint=HOST&region=R, gitlab or none"

// Default names the store used when none is given: the Actions cache
// service when this step can reach it, the runner's cache: on GitLab, else
// a directory under the user cache directory.
func Default(e *ci.Env) string {
	switch {
	case e.CacheService():
		return "github"
	case e.Platform == ci.GitLab:
		return "gitlab"
	}
	return "file"
}

// Open opens the store spec names ("" for Default). It returns a nil store
// for None and InProject. A malformed spec is an error wrapping ErrUsage; a
// store that cannot be set up (the cache service's variables are missing)
// is another error, which callers report as a warning and a miss.
func Open(spec string, e *ci.Env, o Options) (store.Store, Kind, error) {
	if spec == "" || spec == "auto" {
		spec = Default(e)
	}
	switch {
	case spec == "none" || spec == "off":
		return nil, None, nil
	case spec == "gitlab":
		return nil, InProject, nil
	case spec == "github":
		return openGitHub(e, o)
	case spec == "file":
		if o.CacheDir == "" {
			return nil, None, fmt.Errorf("%w: no store given and no user cache directory (set HOME or XDG_CACHE_HOME)", ErrUsage)
		}
		return local.New(filepath.Join(o.CacheDir, "store")), File, nil
	case strings.HasPrefix(spec, "file://"):
		u, err := url.Parse(spec)
		if err != nil || u.Path == "" || (u.Host != "" && u.Host != "localhost") {
			return nil, None, fmt.Errorf("%w: %s: want file:///ABSOLUTE/PATH", ErrUsage, spec)
		}
		return local.New(filepath.FromSlash(u.Path)), File, nil
	case strings.HasPrefix(spec, "s3://"):
		getenv := o.Getenv
		if getenv == nil {
			getenv = func(string) string { return "" }
		}
		st, err := s3.New(spec, getenv)
		if err != nil {
			return nil, None, fmt.Errorf("%w: %v", ErrUsage, err)
		}
		return st, S3, nil
	}
	return nil, None, fmt.Errorf("%w: %q: want %s", ErrUsage, spec, Usage)
}

func openGitHub(e *ci.Env, o Options) (store.Store, Kind, error) {
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	st, err := github.New(github.Options{
		URL:   e.GitHub.ResultsURL,
		Token: e.GitHub.RuntimeToken,
		Mask: func(u string) {
			if e.Platform == ci.GitHub {
				// stderr: the runner reads workflow commands there too,
				// and stdout may carry JSON or SARIF.
				ci.MaskURL(log, u)
			}
		},
	})
	if err != nil {
		return nil, GitHub, err
	}
	return st, GitHub, nil
}
