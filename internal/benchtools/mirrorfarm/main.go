// Command mirrorfarm serves a directory in the GOPROXY layout (such as
// $GOMODCACHE/cache/download) through several loopback mirrors with set
// behaviours, and a checksum database for it signed with a key made at
// start. The proxy benchmark plays distant, slow and hanging mirrors with
// it.
//
// Usage:
//
//	mirrorfarm -dir DIR -sumdb NAME -mirror 'fast:latency=50ms' -mirror 'hang:latency=20ms,hangevery=10,hangfor=10s'
//
// A mirror's options: latency=D, status=N, hangafter=N, hangevery=N,
// hangfor=D, truncate, lie, nosumdb. It prints "GOSUMDB <key>" and then
// "<name> <url>" for each mirror, then "ready", and serves until killed.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/proxy/proxytest"
)

type mirrorFlags []string

func (m *mirrorFlags) String() string     { return strings.Join(*m, " ") }
func (m *mirrorFlags) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	dir := flag.String("dir", "", "directory in the GOPROXY layout")
	name := flag.String("sumdb", "benchdb.modhygiene.test", "name of the checksum database to serve")
	var mirrors mirrorFlags
	flag.Var(&mirrors, "mirror", "NAME:OPTIONS of a mirror (repeat)")
	flag.Parse()
	if *dir == "" || len(mirrors) == 0 {
		log.Fatal("mirrorfarm: -dir and at least one -mirror are required")
	}
	db, err := proxytest.NewSumDB(*name, *dir)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("GOSUMDB %s\n", db.Key)
	for _, spec := range mirrors {
		label, b, err := parse(spec)
		if err != nil {
			log.Fatalf("mirrorfarm: -mirror %q: %v", spec, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s http://%s\n", label, ln.Addr())
		go func() { log.Fatal(http.Serve(ln, proxytest.NewMirror(*dir, b, db))) }()
	}
	fmt.Println("ready")
	os.Stdout.Sync()
	select {}
}

// parse reads NAME:key=value,flag,...
func parse(spec string) (string, proxytest.Behavior, error) {
	var b proxytest.Behavior
	label, opts, _ := strings.Cut(spec, ":")
	if label == "" {
		return "", b, fmt.Errorf("no name")
	}
	for _, opt := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(opt), "=")
		var err error
		switch k {
		case "":
		case "latency":
			b.Latency, err = time.ParseDuration(v)
		case "hangfor":
			b.HangFor, err = time.ParseDuration(v)
		case "status":
			b.Status, err = strconv.Atoi(v)
		case "hangafter":
			b.HangAfter, err = strconv.ParseInt(v, 10, 64)
		case "hangevery":
			b.HangEvery, err = strconv.ParseInt(v, 10, 64)
		case "truncate":
			b.Truncate = true
		case "lie":
			b.Lie = true
		case "nosumdb":
			b.NoSumDB = true
		default:
			err = fmt.Errorf("unknown option %q", k)
		}
		if err != nil {
			return "", b, err
		}
	}
	return label, b, nil
}
