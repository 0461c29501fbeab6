package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/finding"
)

// Apply returns fs with the file's rule settings and ignores applied: rules
// set to "off" and ignored findings are dropped, severities are overridden.
// An ignore whose expiry has passed (at now) no longer applies, and each
// such ignore that still matches a finding is reported as a finding of its
// own, so that it gets renewed or removed.
func (f *File) Apply(fs []finding.Finding, now time.Time) []finding.Finding {
	if f == nil {
		return fs
	}
	var out []finding.Finding
	expired := map[int]string{} // ignore index -> rule of the first finding it matched
	for _, fd := range fs {
		if fd.IsFailure() {
			// A failure is never configured away: the run's verdict on
			// the module is unknown.
			out = append(out, fd)
			continue
		}
		sev := strings.ToLower(f.Rules[fd.Rule])
		if sev == "off" {
			continue
		}
		if s, err := finding.ParseSeverity(sev); err == nil {
			fd.Severity = s
		}
		if i, ig := f.match(fd); ig != nil {
			if ig.Until.IsZero() || now.Before(ig.Until.AddDate(0, 0, 1)) {
				continue
			}
			if _, ok := expired[i]; !ok {
				expired[i] = fd.Rule
			}
		}
		out = append(out, fd)
	}
	for i := range f.Ignore {
		if rule, ok := expired[i]; ok {
			out = append(out, f.expiredFinding(&f.Ignore[i], rule))
		}
	}
	return out
}

func (f *File) match(fd finding.Finding) (int, *Ignore) {
	for i := range f.Ignore {
		ig := &f.Ignore[i]
		if ig.Rule != "" && ig.Rule != fd.Rule {
			continue
		}
		if ig.Module != "" && ig.Module != fd.Module {
			continue
		}
		if ig.Subject != "" && !subjectMatch(ig.Subject, fd.Subject) {
			continue
		}
		return i, ig
	}
	return -1, nil
}

func subjectMatch(pattern, subject string) bool {
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return subject == p || strings.HasPrefix(subject, p+"/")
	}
	return pattern == subject
}

// expiredFinding reports an expired ignore under its own rule or, when it
// names none (an ignore by OSV ID), the rule of the finding it matched.
func (f *File) expiredFinding(ig *Ignore, matched string) finding.Finding {
	what := ig.Subject
	if what == "" {
		what = ig.Rule
	}
	fd := finding.Finding{
		Rule:     ig.Rule,
		Severity: finding.Warning,
		Message:  fmt.Sprintf("ignore of %s expired on %s (reason was: %s); the finding is reported again", what, ig.Expires, ig.Reason),
		File:     f.rel(),
		Line:     ig.Line,
		Subject:  "expired-ignore:" + what,
		Fix:      fmt.Sprintf("renew or remove the ignore entry at %s:%d", f.rel(), ig.Line),
	}
	if fd.Rule == "" {
		fd.Rule = matched
	}
	fd.Normalize()
	return fd
}

// rel is the file's repository-relative path for findings.
func (f *File) rel() string {
	if f.Rel != "" {
		return f.Rel
	}
	return FileName
}
