// Command fakes3 serves an in-memory S3-compatible store
// (github.com/johannesboyne/gofakes3) on a loopback port with one bucket,
// for benchmarks of the s3 store. It prints its URL on the first line of
// stdout and serves until killed. Any credentials are accepted.
//
// Usage: fakes3 -bucket NAME
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	bucket := flag.String("bucket", "bench", "bucket to create")
	flag.Parse()
	backend := s3mem.New()
	if err := backend.CreateBucket(*bucket); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, gofakes3.New(backend).Server()))
}
