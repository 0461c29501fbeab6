package proxy

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// window is how many recent answer times a mirror's order and hedge delay
// are computed from.
const window = 32

// upstream is one mirror (or the checksum database's own server) and what
// this run learned about it.
type upstream struct {
	label string // name, or URL without user information
	base  string // URL without user information or trailing slash
	user  string
	pass  string
	auth  bool
	index int  // position in Options.Mirrors
	own   bool // the checksum database's own server: sumdb paths only

	mu       sync.Mutex
	recent   []time.Duration // probe samples, then the run's, newest last
	all      []time.Duration // the run's answer times, for stats
	demoted  bool
	reason   string
	suspects int             // stalled attempts still watched
	db       map[string]int8 // checksum databases it serves (1) or not (-1)

	requests, hits, bytes, notFound, failures, cancelled, stalls atomic.Int64
}

// standing is where a mirror stands in the order.
type standing int

const (
	good    standing = iota
	suspect          // an attempt stalled and has not answered yet
	demoted          // it failed: asked only when the others failed
)

func (u *upstream) standing() standing {
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.demoted:
		return demoted
	case u.suspects > 0:
		return suspect
	}
	return good
}

// suspect records a stalled attempt: the mirror is asked after the others
// until the attempt answers.
func (u *upstream) suspect() {
	u.stalls.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.suspects++
}

func (u *upstream) unsuspect() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.suspects--
}

// newUpstream parses a mirror's URL; credentials come from the URL or,
// failing that, from netrc.
func newUpstream(m Mirror, index int, creds map[string]netrcEntry) (*upstream, error) {
	u, err := url.Parse(m.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errInvalidMirror(m, index)
	}
	up := &upstream{index: index, demoted: m.Demoted}
	if m.Demoted {
		up.reason = "failed the probe"
	}
	if u.User != nil {
		up.user = u.User.Username()
		up.pass, _ = u.User.Password()
		up.auth = true
		u.User = nil
	} else if e, ok := creds[u.Hostname()]; ok {
		up.user, up.pass, up.auth = e.login, e.password, true
	}
	up.base = strings.TrimRight(u.String(), "/")
	up.label = m.Name
	if up.label == "" {
		up.label = up.base
	}
	up.recent = append(up.recent, m.Samples...)
	if len(up.recent) > window {
		up.recent = up.recent[len(up.recent)-window:]
	}
	return up, nil
}

// answered records the time to the response headers of an answer (a
// success or a not-found).
func (u *upstream) answered(d time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.recent = append(u.recent, d)
	if len(u.recent) > window {
		u.recent = u.recent[1:]
	}
	u.all = append(u.all, d)
}

// demote moves the mirror to the back of the order for the rest of the
// run. It reports whether the mirror was in good standing before.
func (u *upstream) demote(reason string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.demoted {
		return false
	}
	u.demoted, u.reason = true, reason
	return true
}

// median is the median of the recent answer times, or -1 without any.
func (u *upstream) median() time.Duration {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.recent) == 0 {
		return -1
	}
	return percentile(u.recent, 50)
}

// hedgeDelay is how long to wait for this mirror before asking the next:
// three times its median answer time or its 95th percentile, whichever is
// larger, within [min, max]; max when nothing is known of it.
func (u *upstream) hedgeDelay(min, max time.Duration) time.Duration {
	u.mu.Lock()
	rec := append([]time.Duration(nil), u.recent...)
	u.mu.Unlock()
	if len(rec) == 0 {
		return max
	}
	d := 3 * percentile(rec, 50)
	if p := percentile(rec, 95); p > d {
		d = p
	}
	return clamp(d, min, max)
}

func clamp(d, min, max time.Duration) time.Duration {
	if d < min {
		return min
	}
	if d > max {
		return max
	}
	return d
}

// percentile returns the p-th percentile (nearest rank) of ds, 0 for none.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return s[rank-1]
}

// servesDB reports whether the mirror may serve checksum database name:
// false once it answered not found where another upstream had the answer.
func (u *upstream) servesDB(name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.db[name] >= 0
}

// knownDB reports whether the mirror has served database name.
func (u *upstream) knownDB(name string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.db[name] > 0
}

// setDB records whether the mirror serves database name.
func (u *upstream) setDB(name string, serves bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.db == nil {
		u.db = map[string]int8{}
	}
	u.db[name] = -1
	if serves {
		u.db[name] = 1
	}
}

// order returns ups in the order to ask them: mirrors in good standing,
// then suspected ones, then demoted ones; within each, by median answer
// time (those never measured last), then in their given order.
func order(ups []*upstream) []*upstream {
	type ranked struct {
		u   *upstream
		st  standing
		med time.Duration
	}
	rs := make([]ranked, len(ups))
	for i, u := range ups {
		rs[i] = ranked{u, u.standing(), u.median()}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case a.st != b.st:
			return a.st < b.st
		case (a.med < 0) != (b.med < 0):
			return a.med >= 0
		case a.med != b.med:
			return a.med < b.med
		}
		return a.u.index < b.u.index
	})
	out := make([]*upstream, len(rs))
	for i, r := range rs {
		out[i] = r.u
	}
	return out
}

func errInvalidMirror(m Mirror, index int) error {
	label := m.Name
	if label == "" {
		label = fmt.Sprintf("number %d", index+1)
	}
	return fmt.Errorf("mirror %s: want an http(s) URL", label)
}
