package s3

import (
	"testing"

	"github.com/modhygiene/modhygiene/internal/cache/store/storetest"
)

// TestCacheRoundTrip saves a small module cache through gofakes3 and
// restores it elsewhere.
func TestCacheRoundTrip(t *testing.T) {
	srv, getenv := newServer(t)
	s, err := New("s3://ci-cache/go?endpoint="+srv.URL+"&style=path", getenv)
	if err != nil {
		t.Fatal(err)
	}
	storetest.RoundTrip(t, s)
}
