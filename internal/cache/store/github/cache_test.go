package github

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache"
	"github.com/modhygiene/modhygiene/internal/cache/store/github/githubtest"

	"github.com/modhygiene/modhygiene/internal/cache/store"

	"github.com/modhygiene/modhygiene/internal/cache/store/storetest"
)

// TestCacheRoundTrip saves a small module cache through the Twirp fake
// (blobs in Azurite when MH_AZURITE_URL is set) and restores it elsewhere.
func TestCacheRoundTrip(t *testing.T) {
	var masked []string
	storetest.RoundTrip(t, newStore(t, newTwirp(t), &masked))
}

// TestConcurrentSaves: two to four jobs save one key at once through the
// fake, whose blob writes are slow enough for them to overlap; one
// complete entry is left and every save succeeds.
func TestConcurrentSaves(t *testing.T) {
	for n := 2; n <= 4; n++ {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newTwirp(t)
			f.BlobDelay = 50 * time.Millisecond
			storetest.ConcurrentSaves(t, n, func() store.Store {
				var masked []string
				return newStore(t, f, &masked)
			})
		})
	}
}

// TestSaveDenied: a save with a token that may not write warns with the
// service's message, once, and not of an existing or missing entry.
func TestSaveDenied(t *testing.T) {
	f := newTwirp(t)
	f.Tokens = map[string]githubtest.Scope{"ro": {Read: []string{"refs/heads/main"}}}
	s, err := New(Options{URL: f.srv.URL, Token: "ro"})
	if err != nil {
		t.Fatal(err)
	}
	var warns []string
	storetest.Save(t, s, cache.Options{Warn: func(m string) { warns = append(warns, m) }})
	all := strings.Join(warns, "\n")
	if len(warns) != 1 || !strings.Contains(all, "cache write denied: ") || strings.Contains(all, "exists") || strings.Contains(all, "not found") {
		t.Errorf("warnings: %q", warns)
	}
}
