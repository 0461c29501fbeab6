package check

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListingReuse runs check on a fixture again and again, changing one
// input of its package listing in between: an unchanged module's packages
// are reused, a changed one is listed again (and its graph shows the
// change), and a listing with an error is never remembered.
func TestListingReuse(t *testing.T) {
	cr := unpackCorpus(t, corpusShared(t), filepath.Join("testdata", "ok", "protobuf_path.txtar"))
	cr.goCmd(t, cr.dir, "mod", "tidy") // writes go.sum
	ctx := context.Background()
	const gateway = "github.com/grpc-ecosystem/grpc-gateway"
	step := func(name string, wantReused int, wantLinked bool) *Result {
		t.Helper()
		res := cr.run(ctx, t, cr.dir)
		g := res.Graphs[0]
		if res.Reused != wantReused || g.Reused != (wantReused == 1) {
			t.Errorf("%s: reused %d (graph %v), want %d", name, res.Reused, g.Reused, wantReused)
		}
		if g.IsLinked(gateway) != wantLinked {
			t.Errorf("%s: %s linked = %v, want %v", name, gateway, !wantLinked, wantLinked)
		}
		return res
	}
	first := step("first run", 0, true)
	second := step("second run", 1, true)
	if len(first.Findings) != len(second.Findings) || first.Findings[0].Fingerprint != second.Findings[0].Fingerprint {
		t.Errorf("findings differ: %v, then %v", first.Findings, second.Findings)
	}

	client := filepath.Join(cr.dir, "client.go")
	src, err := os.ReadFile(client)
	if err != nil {
		t.Fatal(err)
	}
	noGateway := strings.Replace(strings.Replace(string(src), "\t\"github.com/grpc-ecosystem/grpc-gateway/runtime\"\n", "", 1), "runtime.Name + ", "", 1)
	writeFile(t, client, []byte(noGateway))
	step("import removed", 0, false)
	step("import removed, again", 1, false)

	writeFile(t, filepath.Join(cr.dir, "broken.go"), []byte("package clientv3\n\nimport _ \"example.com/missing/pkg\"\n"))
	if res := step("broken import", 0, false); res.Graphs[0].PackagesErr == nil {
		t.Fatal("no package error for a missing import")
	}
	step("broken import, again", 0, false)
}
