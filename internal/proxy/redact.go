package proxy

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
)

// scrubber removes credentials from text that may reach a log, an error or
// the stats: the user names and passwords of the mirrors' URLs and of the
// .netrc entries.
type scrubber struct {
	secrets []string // longest first, so a secret inside another goes too
}

func newScrubber(ups []*upstream, creds map[string]netrcEntry) *scrubber {
	seen := map[string]bool{}
	var s scrubber
	add := func(v string) {
		if len(v) >= 3 && !seen[v] {
			seen[v] = true
			s.secrets = append(s.secrets, v, url.QueryEscape(v), url.PathEscape(v))
		}
	}
	for _, u := range ups {
		if u.auth {
			add(u.user)
			add(u.pass)
		}
	}
	for _, e := range creds {
		add(e.login)
		add(e.password)
	}
	sort.Slice(s.secrets, func(i, j int) bool { return len(s.secrets[i]) > len(s.secrets[j]) })
	return &s
}

// scrub replaces every secret in text with "xxxxx".
func (s *scrubber) scrub(text string) string {
	for _, v := range s.secrets {
		text = strings.ReplaceAll(text, v, "xxxxx")
	}
	return text
}

// bare strips the URL from the errors of net/http, which name the request
// URL (with its user name) in front of the cause.
func bare(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		err = ue.Err
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return err
}
