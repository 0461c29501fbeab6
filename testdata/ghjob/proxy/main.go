// Command proxy serves a directory of goproxytest fixtures (testdata/mod)
// as a Go module proxy on the loopback interface, for tests written in
// other languages than Go (the GitHub Action's simulated job). It prints
// the proxy's URL on a line of its own, then serves until its standard
// input is closed.
//
//	go run ./testdata/ghjob/proxy testdata/mod
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rogpeppe/go-internal/goproxytest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: proxy DIR")
		os.Exit(2)
	}
	srv, err := goproxytest.NewServer(os.Args[1], "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
	fmt.Println(srv.URL)
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
}
