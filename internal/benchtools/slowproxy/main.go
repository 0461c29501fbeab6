// Command slowproxy serves a directory in the GOPROXY layout (such as
// $GOMODCACHE/cache/download) on a loopback port, adding a fixed delay to
// every request. The benchmarks use it to play a distant module proxy.
//
// Usage: slowproxy -dir DIR -delay 50ms -addr 127.0.0.1:0
//
// It prints its URL on the first line of stdout and serves until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	dir := flag.String("dir", "", "directory in the GOPROXY layout")
	delay := flag.Duration("delay", 50*time.Millisecond, "delay added to every request")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	logReqs := flag.Bool("log", false, "log every request with its time on stderr")
	flag.Parse()
	if *dir == "" {
		log.Fatal("slowproxy: -dir is required")
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	files := http.FileServer(http.Dir(*dir))
	start := time.Now()
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *logReqs {
			log.Printf("%6dms %s", time.Since(start).Milliseconds(), r.URL.Path)
		}
		time.Sleep(*delay)
		if serveInfo(w, r, *dir) {
			return
		}
		files.ServeHTTP(w, r)
	})))
}

// serveInfo answers a request for a version's .info that the directory
// lacks but whose .mod it has, as a full proxy would: the module cache keeps
// .info files only for versions the go command asked about.
func serveInfo(w http.ResponseWriter, r *http.Request, dir string) bool {
	p, ok := strings.CutSuffix(r.URL.Path, ".info")
	if !ok || strings.Contains(p, "..") {
		return false
	}
	local := filepath.Join(dir, filepath.FromSlash(p))
	if _, err := os.Stat(local + ".info"); err == nil {
		return false
	}
	fi, err := os.Stat(local + ".mod")
	if err != nil {
		return false
	}
	version := path.Base(p)
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, "{\"Version\":%q,\"Time\":%q}\n", version, fi.ModTime().UTC().Format(time.RFC3339))
	return true
}
