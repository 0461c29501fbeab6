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
		files.ServeHTTP(w, r)
	})))
}
