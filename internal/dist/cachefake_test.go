package dist_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/modhygiene/modhygiene/internal/cache/store/github"
)

// TestNodeCacheFake checks the cache-service fake of the action's
// simulated job (action/testing/cachefake.js) against the project's own
// client of the service, so that the simulation speaks what the binary
// speaks: one Put Blob, Put Block + Put Block List, exact and prefix
// lookups, and an existing key refused.
func TestNodeCacheFake(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not on PATH")
	}
	cmd := exec.Command("node", "-e", `require('./action/testing/cachefake').startCacheFake().then((f) => {
  console.log(f.url + ' ' + f.token);
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
});`)
	cmd.Dir = root
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("starting the fake: %v", err)
	}
	url, token, _ := strings.Cut(strings.TrimSpace(line), " ")

	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789"), 1234)
	for _, tc := range []struct {
		key       string
		blockSize int
	}{
		{"gomod-one-blob", 0},
		{"gomod-blocks", 1000},
	} {
		s, err := github.New(github.Options{URL: url + "/", Token: token, BlockSize: tc.blockSize})
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Put(ctx, tc.key, bytes.NewReader(data))
		if err != nil || n != int64(len(data)) {
			t.Fatalf("Put %s: %d, %v", tc.key, n, err)
		}
		if _, err := s.Put(ctx, tc.key, bytes.NewReader(data)); err == nil {
			t.Errorf("a second Put of %s succeeded", tc.key)
		}
		e, err := s.Open(ctx, tc.key)
		if err != nil {
			t.Fatalf("Open %s: %v", tc.key, err)
		}
		got, err := io.ReadAll(e.Body)
		e.Body.Close()
		if err != nil || !bytes.Equal(got, data) || e.Key != tc.key {
			t.Errorf("Open %s: key %s, %d bytes, %v; want the %d bytes put", tc.key, e.Key, len(got), err, len(data))
		}
	}
	s, err := github.New(github.Options{URL: url + "/", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.Open(ctx, "gomod-other", "gomod-")
	if err != nil {
		t.Fatalf("prefix lookup: %v", err)
	}
	e.Body.Close()
	if e.Key != "gomod-blocks" {
		t.Errorf("prefix lookup matched %s, want the newest entry gomod-blocks", e.Key)
	}
	if _, err := s.Open(ctx, "gobuild-x", "gobuild-"); err == nil {
		t.Error("lookup of a missing key found an entry")
	}
}
