package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/modhygiene/modhygiene/internal/cli"
)

func main() {
	// SIGTERM is what CI runners send on cancel: like an interrupt, it
	// cancels the run, and every stage removes its temporary files.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	cwd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "modhygiene: %v\n", err)
		os.Exit(3)
	}
	self, _ := os.Executable()
	code := cli.Main(ctx, cli.Invocation{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Env: os.Environ(), Dir: cwd, Self: self})
	stop()
	os.Exit(code)
}
