package cache

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/modhygiene/modhygiene/internal/cache/store/local"
)

// benchInputs returns the module cache and go.sum named by MH_BENCH_MODCACHE
// and MH_BENCH_GOSUM; scripts/bench-cache.sh is the benchmark to read, these
// are for profiling (go test -bench . -cpuprofile). MH_BENCH_HASHZIPS=1
// restores with Options.HashZips.
func benchInputs(b *testing.B) (string, *Keys) {
	root, sum := os.Getenv("MH_BENCH_MODCACHE"), os.Getenv("MH_BENCH_GOSUM")
	if root == "" || sum == "" {
		b.Skip("set MH_BENCH_MODCACHE and MH_BENCH_GOSUM")
	}
	data, err := os.ReadFile(sum)
	if err != nil {
		b.Fatal(err)
	}
	if l := os.Getenv("MH_BENCH_LEVEL"); l != "" {
		n, _ := strconv.Atoi(l)
		encoderLevel = zstd.EncoderLevel(n)
	}
	n, _ := strconv.Atoi(os.Getenv("MH_BENCH_SHARDS"))
	if n == 0 {
		n = DefaultShards
	}
	return root, ModuleKeys(SumLines(data), n)
}

func BenchmarkSave(b *testing.B) {
	root, k := benchInputs(b)
	for i := 0; i < b.N; i++ {
		st := local.New(filepath.Join(b.TempDir(), "store"))
		par, _ := strconv.Atoi(os.Getenv("MH_BENCH_PAR"))
		res := Save(context.Background(), st, ModuleSet(root, k), Options{Parallel: par})
		if res.Status != Hit {
			b.Fatalf("%+v", res)
		}
		b.ReportMetric(float64(res.Bytes)/(1<<20), "MiB")
	}
}

func BenchmarkRestore(b *testing.B) {
	root, k := benchInputs(b)
	st := local.New(filepath.Join(b.TempDir(), "store"))
	Save(context.Background(), st, ModuleSet(root, k), Options{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dst := filepath.Join(b.TempDir(), "mod")
		syscall.Sync() // no restore pays for the writes before it
		time.Sleep(time.Second)
		b.StartTimer()
		par, _ := strconv.Atoi(os.Getenv("MH_BENCH_PAR"))
		o := Options{Parallel: par, HashZips: os.Getenv("MH_BENCH_HASHZIPS") != ""}
		if res := Restore(context.Background(), st, ModuleSet(dst, k), o); res.Status != Hit {
			b.Fatalf("%+v", res)
		}
		b.StopTimer()
		removeAll(dst)
		b.StartTimer()
	}
}
