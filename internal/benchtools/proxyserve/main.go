// Command proxyserve runs the module proxy (internal/proxy) in the
// foreground, wired as `modhygiene proxy` wires it, for the benchmark
// script before the command layer has it.
//
// Usage:
//
//	proxyserve [-listen 127.0.0.1:0] [-mirror NAME=URL]... [-probe] [-store URL]
//	           [-modcache DIR] [-dir DIR] [-sumdb GOSUMDB] [-stats FILE]
//	proxyserve -show FILE
//
// It prints the proxy's URL on the first line of stdout and serves until
// SIGINT or SIGTERM; then it waits for the store writes, writes the stats
// as JSON to -stats and as a table to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
	"github.com/modhygiene/modhygiene/internal/cache/store/local"
	"github.com/modhygiene/modhygiene/internal/cache/store/s3"
	"github.com/modhygiene/modhygiene/internal/mirror"
	"github.com/modhygiene/modhygiene/internal/proxy"
	"github.com/modhygiene/modhygiene/internal/workspace"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var mirrors listFlag
	flag.Var(&mirrors, "mirror", "NAME=URL of a mirror, fastest first unless -probe (repeat)")
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	probe := flag.Bool("probe", false, "probe the mirrors and order them by the measurement")
	probeDir := flag.String("probe-dir", "", "module whose requirements the probe fetches")
	storeURL := flag.String("store", "", "shared store: file:///DIR or s3://BUCKET/PREFIX?...")
	modcache := flag.String("modcache", "", "GOMODCACHE to serve first")
	dir := flag.String("dir", "", "the proxy's own directory (default: temporary)")
	sumdb := flag.String("sumdb", "", "GOSUMDB with its key")
	statsFile := flag.String("stats", "", "write the stats as JSON to this file on exit")
	show := flag.String("show", "", "print the stats saved in this file as a table, and exit")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if *show != "" {
		showStats(*show)
		return
	}

	opts := proxy.Options{ModCache: *modcache, Dir: *dir, SumDB: *sumdb, Log: os.Stderr}
	var cands []mirror.Candidate
	for _, m := range mirrors {
		name, u, _ := strings.Cut(m, "=")
		cands = append(cands, mirror.Candidate{Name: name, URL: u})
	}
	if *probe {
		opts.Mirrors = probed(cands, *probeDir, *sumdb)
	} else {
		for _, c := range cands {
			opts.Mirrors = append(opts.Mirrors, proxy.Mirror{Name: c.Name, URL: c.URL})
		}
	}
	if *storeURL != "" {
		st, err := openStore(*storeURL)
		if err != nil {
			log.Fatalf("proxyserve: -store: %v", err)
		}
		opts.Store = st
	}
	run(opts, *listen, *statsFile)
}

// probed measures the mirrors as `modhygiene mirrors` does and orders them.
func probed(cands []mirror.Candidate, dir, sumdb string) []proxy.Mirror {
	p := &mirror.Prober{Timeout: 3 * time.Second, SumDB: mirror.SumDBName(sumdb)}
	if dir != "" {
		if ws, err := workspace.Discover(dir); err == nil {
			p.Modules = mirror.ProbeModules(ws, "", 3)
		}
	}
	results := p.Probe(context.Background(), cands)
	for _, r := range results {
		fmt.Fprintf(os.Stderr, "probe: %s %s %v %s\n", r.Label(), r.Status, r.Latency.Round(time.Millisecond), r.Error)
	}
	return proxy.MirrorsFromProbe(results)
}

func openStore(spec string) (store.Store, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		return local.New(filepath.FromSlash(u.Path)), nil
	case "s3":
		return s3.New(spec, os.Getenv)
	}
	return nil, fmt.Errorf("%q: want file:///DIR or s3://", spec)
}

func showStats(file string) {
	f, err := os.Open(file)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	st, err := proxy.ReadStats(f)
	if err != nil {
		log.Fatal(err)
	}
	st.WriteText(os.Stdout)
}

func run(opts proxy.Options, listen, statsFile string) {
	s, err := proxy.New(opts)
	if err != nil {
		log.Fatalf("proxyserve: %v", err)
	}
	if err := s.Start(listen); err != nil {
		log.Fatalf("proxyserve: %v", err)
	}
	fmt.Println(s.URL())
	os.Stdout.Sync()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	<-ctx.Done()
	stop()
	closeCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if err := s.Close(closeCtx); err != nil {
		fmt.Fprintf(os.Stderr, "proxyserve: %v\n", err)
	}
	st := s.Stats()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(os.Stderr, "closed in %v; cpu: user %.2fs, system %.2fs\n", time.Since(start).Round(time.Millisecond),
		time.Duration(syscall.TimevalToNsec(ru.Utime)).Seconds(), time.Duration(syscall.TimevalToNsec(ru.Stime)).Seconds())
	st.WriteText(os.Stderr)
	if statsFile != "" {
		f, err := os.Create(statsFile)
		if err != nil {
			log.Fatal(err)
		}
		st.WriteJSON(f)
		f.Close()
	}
}
