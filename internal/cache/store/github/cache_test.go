package github

import (
	"testing"

	"github.com/modhygiene/modhygiene/internal/cache/store/storetest"
)

// TestCacheRoundTrip saves a small module cache through the Twirp fake
// (blobs in Azurite when MH_AZURITE_URL is set) and restores it elsewhere.
func TestCacheRoundTrip(t *testing.T) {
	var masked []string
	storetest.RoundTrip(t, newStore(t, newTwirp(t), &masked))
}
