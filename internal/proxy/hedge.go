package proxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
	hedge   bool          // started by the hedge timer
	cancel  context.CancelFunc
	headers chan struct{} // closed when the response headers arrive
	status  atomic.Int32  // their status code
	ttfb    atomic.Int64  // and when they came
	ended   chan struct{} // closed when the attempt returns
	done    bool          // its answer reached the race
	missing bool          // it answered not found
}

// stalled reports whether the run has had no headers for longer than its
// hedge delay.
func (r *run) stalled() bool {
	select {
	case <-r.headers:
		return false
	default:
		return time.Since(r.start) > r.delay
	}
}

// racer is the state of one race (see Server.race).
type racer struct {
	s        *Server
	ctx      context.Context
	ups      []*upstream
	target   func(*upstream) string
	sp       *spec
	results  chan *answer
	runs     []*run
	timer    *time.Timer
	found    *answer // the first not-found answer
	failures []string
}

// race asks the upstreams in turn for a file, hedging: it starts with the
// first; when an upstream has not answered within its hedge delay, the next
// one is asked too; an error or a not-found moves on at once. The first
// valid answer wins and the others are cancelled. The outcome is not found
// (a *notFoundError) when the upstreams in good standing that answered all
// said so and none had it. An upstream that errs is demoted; one that
// stalls is suspected (asked after the others) until its late answer
// arrives, and demoted if none does. target gives the path to ask each
// upstream for.
func (s *Server) race(ctx context.Context, ups []*upstream, target func(*upstream) string, sp *spec) (*answer, error) {
	if len(ups) == 0 {
		return nil, &notFoundError{"no upstream to ask"}
	}
	rc := &racer{s: s, ctx: ctx, ups: ups, target: target, sp: sp,
		results: make(chan *answer, len(ups)), timer: time.NewTimer(time.Hour)}
	defer rc.timer.Stop()
	rc.launch(false)
	for {
		select {
		case <-rc.timer.C:
			if rc.canLaunch() {
				rc.launch(true)
			}
			continue
		case <-ctx.Done():
			rc.finish(nil)
			return nil, ctx.Err()
		case a := <-rc.results:
			rc.runs[a.run].done = true
			if a.ok() {
				rc.settle(a)
				rc.finish(a)
				return a, nil
			}
			rc.lost(a)
		}
		if rc.canLaunch() {
			rc.launch(false) // no need to wait: the last one failed
			continue
		}
		if rc.found != nil && rc.onlyStalledLeft() || rc.pending() == 0 {
			rc.finish(nil)
			if rc.found != nil {
				return nil, &notFoundError{rc.found.msg}
			}
			return nil, fmt.Errorf("no mirror answered: %s", strings.Join(rc.failures, "; "))
		}
	}
}

// canLaunch reports whether there is an upstream left to ask: once one
// said not found, only upstreams in good standing are asked.
func (rc *racer) canLaunch() bool {
	return len(rc.runs) < len(rc.ups) && (rc.found == nil || rc.ups[len(rc.runs)].standing() == good)
}

func (rc *racer) launch(hedge bool) {
	ctx, cancel := context.WithCancel(rc.ctx)
	r := &run{m: rc.ups[len(rc.runs)], start: time.Now(), hedge: hedge, cancel: cancel,
		headers: make(chan struct{}), ended: make(chan struct{})}
	r.delay = r.m.hedgeDelay(rc.s.opts.hedgeMin(), rc.s.opts.hedgeMax())
	i := len(rc.runs)
	rc.runs = append(rc.runs, r)
	if hedge {
		rc.s.st.hedges.Add(1)
	}
	go func() {
		a := rc.s.attempt(ctx, r.m, rc.target(r.m), rc.sp, r)
		a.run = i
		close(r.ended)
		rc.results <- a
	}()
	rc.timer.Reset(r.delay)
}

// lost records an answer that did not win: a not-found or a failure.
func (rc *racer) lost(a *answer) {
	switch {
	case a.notFound():
		rc.runs[a.run].missing = true
		a.m.answered(a.ttfb)
		a.m.notFound.Add(1)
		if rc.found == nil {
			rc.found = a
		}
	case errors.Is(a.err, errCancelled):
		a.m.cancelled.Add(1)
	default:
		a.m.failures.Add(1)
		rc.failures = append(rc.failures, a.m.label+": "+rc.s.scrub.scrub(a.err.Error()))
		rc.s.demote(a.m, a.err.Error())
	}
}

// settle records the winner. A checksum-database request that another
// upstream answered with not found tells that it does not serve the
// database.
func (rc *racer) settle(win *answer) {
	win.m.answered(win.ttfb)
	win.m.hits.Add(1)
	win.m.bytes.Add(win.size)
	if rc.runs[win.run].hedge {
		rc.s.st.hedgesWon.Add(1)
	}
	if rc.sp.db != "" && !win.m.own {
		win.m.setDB(rc.sp.db, true)
	}
	for _, r := range rc.runs {
		if r.missing && rc.sp.db != "" {
			r.m.setDB(rc.sp.db, false)
		}
	}
}

// finish ends the race: the attempts still under way are cancelled, except
// those that stalled, which are watched; the answers still to come are
// collected in the background so that their temporary files go.
func (rc *racer) finish(win *answer) {
	n := 0
	for _, r := range rc.runs {
		if r.done {
			continue
		}
		n++
		if rc.ctx.Err() == nil && r.stalled() && r.m.standing() != demoted {
			rc.s.watch(r)
		} else {
			r.cancel()
		}
	}
	for _, r := range rc.runs {
		if r.done {
			r.cancel()
		}
	}
	if n == 0 {
		return
	}
	go func() {
		for range n {
			a := <-rc.results
			a.discard()
			if errors.Is(a.err, errCancelled) {
				a.m.cancelled.Add(1)
			}
		}
	}()
}

func (rc *racer) pending() int {
	n := 0
	for _, r := range rc.runs {
		if !r.done {
			n++
		}
	}
	return n
}

// onlyStalledLeft reports whether every attempt under way has stalled or
// goes to a mirror not in good standing.
func (rc *racer) onlyStalledLeft() bool {
	for _, r := range rc.runs {
		if !r.done && !r.stalled() && r.m.standing() == good {
			return false
		}
	}
	return true
}

// watch suspects the upstream of a stalled attempt and lets the attempt
// go on: when its headers come (a late answer), the suspicion is lifted
// and the request cancelled; when it ends without an answer, the upstream
// is demoted.
func (s *Server) watch(r *run) {
	r.m.suspect()
	go func() {
		select {
		case <-r.headers:
		case <-r.ended:
			select {
			case <-r.headers:
			default:
				s.demote(r.m, fmt.Sprintf("no answer within %v", s.opts.timeout()))
				r.m.unsuspect()
				return
			}
		}
		r.cancel()
		switch st := int(r.status.Load()); st {
		case http.StatusOK, http.StatusNotFound, http.StatusGone:
			r.m.answered(time.Duration(r.ttfb.Load()))
		default:
			s.demote(r.m, fmt.Sprintf("%d %s", st, http.StatusText(st)))
		}
		r.m.unsuspect()
	}()
}

// demote demotes an upstream for the rest of the run and logs it once.
func (s *Server) demote(m *upstream, reason string) {
	if m.demote(s.scrub.scrub(reason)) {
		s.logf("mirror %s demoted for the rest of the run: %s", m.label, s.scrub.scrub(reason))
	}
}
