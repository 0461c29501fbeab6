package proxy

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Background says how to start a proxy that outlives the process starting
// it: on GitHub Actions every step is a new process, and the proxy must
// serve the job's later steps until the post step stops it.
type Background struct {
	// Program and Args start the proxy: the modhygiene program itself, with
	// Args such as "proxy --state FILE". The started proxy must write its
	// state to StateFile once it serves (see WriteState).
	Program string
	Args    []string
	// Env and Dir are the proxy process's environment and directory.
	Env []string
	Dir string
	// StateFile is where the proxy leaves its State; LogFile receives its
	// output.
	StateFile, LogFile string
	// Wait bounds the wait for the state file; 0 means 30 seconds.
	Wait time.Duration
}

// Start starts the proxy in a session of its own (so that it outlives this
// step and the runner's signals to its process group) and waits for its
// state. Stop stops it.
func (b Background) Start(ctx context.Context) (State, error) {
	os.Remove(b.StateFile)
	log, err := os.OpenFile(b.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return State{}, err
	}
	defer log.Close()
	cmd := exec.Command(b.Program, b.Args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = b.Env, b.Dir, log, log
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return State{}, err
	}
	if err := cmd.Process.Release(); err != nil {
		return State{}, err
	}
	return b.wait(ctx)
}

// wait waits for the starting proxy's state file.
func (b Background) wait(ctx context.Context) (State, error) {
	limit := b.Wait
	if limit == 0 {
		limit = 30 * time.Second
	}
	deadline := time.Now().Add(limit)
	for {
		if st, err := ReadState(b.StateFile); err == nil {
			return st, nil
		}
		if time.Now().After(deadline) {
			return State{}, fmt.Errorf("the proxy did not start within %s (see %s)", limit, b.LogFile)
		}
		select {
		case <-ctx.Done():
			return State{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// StateDir makes dir, where a background proxy keeps its state, mirrors
// file and log.
func StateDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("no directory for the proxy's files (set HOME)")
	}
	return os.MkdirAll(filepath.Clean(dir), 0o755)
}

// Serve starts s on addr, writes its URL on announce, and its State to
// stateFile ("" for none) for Stop; it serves until ctx ends (SIGINT,
// SIGTERM), then waits up to a minute for the store writes, writes the
// stats beside the state file for Stop and as a table on log. The error is
// a failure to start; problems when closing are warnings on log.
func (s *Server) Serve(ctx context.Context, addr, stateFile string, announce, log io.Writer) error {
	if err := s.Start(addr); err != nil {
		return err
	}
	fmt.Fprintln(announce, s.URL())
	st := State{URL: s.URL(), PID: os.Getpid(), Started: time.Now().UTC()}
	if stateFile != "" {
		st.Stats = stateFile + ".stats"
		if err := WriteState(stateFile, st); err != nil {
			s.Close(context.Background())
			return err
		}
	}
	<-ctx.Done()
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Close(closeCtx); err != nil {
		fmt.Fprintf(log, "modhygiene: warning: proxy: %v\n", err)
	}
	stats := s.Stats()
	if st.Stats != "" {
		if err := stats.WriteFile(st.Stats); err != nil {
			fmt.Fprintf(log, "modhygiene: warning: proxy: %v\n", err)
		}
	}
	return stats.WriteText(log)
}
