package proxy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// notFoundError is the outcome of a race in which the upstreams that
// answered all said 404 or 410.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

// run is one attempt of a race.
type run struct {
	m       *upstream
	start   time.Time
	delay   time.Duration // its hedge delay, fixed when it started
	headers atomic.Bool
	hedge   bool // started by the hedge timer
	done    bool
	missing bool // answered not found
}

// race asks the upstreams in turn for a file, hedging: it starts with the
// first; when an upstream has not answered within its hedge delay, the next
// one is asked too; an error or a not-found moves on at once. The first
// valid answer wins and the others are cancelled. The outcome is not found
// (a *notFoundError) when at least one upstream said so and none had it;
// an upstream that errs or stalls is demoted. target gives the path to ask
// each upstream for.
func (s *Server) race(ctx context.Context, ups []*upstream, target func(*upstream) string, sp *spec) (*answer, error) {
	if len(ups) == 0 {
		return nil, &notFoundError{"no upstream to ask"}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan *answer, len(ups))
	var runs []*run
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	launch := func(hedge bool) {
		r := &run{m: ups[len(runs)], start: time.Now(), hedge: hedge}
		r.delay = r.m.hedgeDelay(s.opts.hedgeMin(), s.opts.hedgeMax())
		i := len(runs)
		runs = append(runs, r)
		if hedge {
			s.st.hedges.Add(1)
		}
		go func() {
			a := s.attempt(ctx, r.m, target(r.m), sp, &r.headers)
			a.run = i
			results <- a
		}()
		timer.Reset(r.delay)
	}
	launch(false)
	var found *answer
	var failures []string
	for {
		select {
		case <-timer.C:
			if len(runs) < len(ups) && (found == nil || !ups[len(runs)].isDemoted()) {
				launch(true)
			}
			continue
		case <-ctx.Done():
			s.drain(results, pending(runs))
			return nil, ctx.Err()
		case a := <-results:
			runs[a.run].done = true
			if a.ok() {
				s.settle(runs, a, sp)
				s.drain(results, pending(runs))
				return a, nil
			}
			runs[a.run].missing = a.notFound()
			s.lost(a, &found, &failures)
		}
		// An answer that was not a success: ask the next upstream at once,
		// unless one already said not found and the rest are demoted.
		if len(runs) < len(ups) && (found == nil || !ups[len(runs)].isDemoted()) {
			launch(false)
			continue
		}
		if found != nil && allDemoted(runs) || pending(runs) == 0 {
			s.drain(results, pending(runs))
			if found != nil {
				return nil, &notFoundError{found.msg}
			}
			return nil, fmt.Errorf("no mirror answered: %s", strings.Join(failures, "; "))
		}
	}
}

// lost records an answer that did not win: a not-found or a failure.
func (s *Server) lost(a *answer, found **answer, failures *[]string) {
	switch {
	case a.notFound():
		a.m.answered(a.ttfb)
		a.m.notFound.Add(1)
		if *found == nil {
			*found = a
		}
	case errors.Is(a.err, errCancelled):
		a.m.cancelled.Add(1)
	default:
		a.m.failures.Add(1)
		*failures = append(*failures, a.m.label+": "+s.scrub.scrub(a.err.Error()))
		s.demote(a.m, a.err.Error())
	}
}

// settle records the winner, and demotes the upstreams that started
// before it and had not even sent headers by their hedge delay: they
// stalled.
func (s *Server) settle(runs []*run, win *answer, sp *spec) {
	win.m.answered(win.ttfb)
	win.m.hits.Add(1)
	win.m.bytes.Add(win.size)
	if runs[win.run].hedge {
		s.st.hedgesWon.Add(1)
	}
	for _, r := range runs {
		if r.missing && sp.db != "" {
			r.m.lacksDB(sp.db) // another upstream had it
		}
		if !r.done && !r.headers.Load() && time.Since(r.start) > r.delay {
			s.demote(r.m, fmt.Sprintf("no answer within %v while %s answered", r.delay.Round(time.Millisecond), win.m.label))
		}
	}
}

// drain collects the answers still to come in the background, so their
// temporary files are removed and their counts kept.
func (s *Server) drain(results chan *answer, n int) {
	if n == 0 {
		return
	}
	go func() {
		for range n {
			a := <-results
			a.discard()
			if errors.Is(a.err, errCancelled) {
				a.m.cancelled.Add(1)
			}
		}
	}()
}

func pending(runs []*run) int {
	n := 0
	for _, r := range runs {
		if !r.done {
			n++
		}
	}
	return n
}

func allDemoted(runs []*run) bool {
	for _, r := range runs {
		if !r.done && !r.m.isDemoted() {
			return false
		}
	}
	return true
}

// demote demotes an upstream for the rest of the run and logs it once.
func (s *Server) demote(m *upstream, reason string) {
	if m.demote(s.scrub.scrub(reason)) {
		s.logf("mirror %s demoted for the rest of the run: %s", m.label, s.scrub.scrub(reason))
	}
}
