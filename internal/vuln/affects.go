package vuln

import "sort"

// affects reports whether version (with or without a "v" prefix) of module
// path is in an affected range of e, as x/vuln decides it: no ranges, or no
// SEMVER range, means every version.
func (e *Entry) affects(path, version string) bool {
	for _, a := range e.Affected {
		if a.Module.Path == path && rangesAffect(a.Ranges, version) {
			return true
		}
	}
	return false
}

func rangesAffect(ranges []Range, v string) bool {
	if len(ranges) == 0 {
		return true
	}
	semverSeen := false
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		semverSeen = true
		if rangeContains(r, v) {
			return true
		}
	}
	return !semverSeen
}

// rangeContains reports whether v is in the half-open intervals that r's
// events describe.
func rangeContains(r Range, v string) bool {
	if len(r.Events) == 0 {
		return true
	}
	type event struct {
		v     string
		intro bool
	}
	var evs []event
	for _, e := range r.Events {
		switch {
		case e.Introduced == "0":
			evs = append(evs, event{"", true})
		case e.Introduced != "":
			evs = append(evs, event{e.Introduced, true})
		case e.Fixed != "":
			evs = append(evs, event{e.Fixed, false})
		}
	}
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].v == "" || evs[j].v == "" {
			return evs[i].v == "" && evs[j].v != ""
		}
		return lessVersion(evs[i].v, evs[j].v)
	})
	affected := false
	for _, e := range evs {
		if e.v != "" && lessVersion(v, e.v) {
			break
		}
		affected = e.intro
	}
	return affected
}

// earliestFix returns the smallest fixed version above version that is not
// itself affected (x/vuln's FixedVersion), with a "v" prefix, or "".
func (e *Entry) earliestFix(path, version string) string {
	var fixes []string
	for _, a := range e.Affected {
		if a.Module.Path != path {
			continue
		}
		for _, r := range a.Ranges {
			if r.Type != "SEMVER" {
				continue
			}
			for _, ev := range r.Events {
				if ev.Fixed != "" && lessVersion(version, ev.Fixed) {
					fixes = append(fixes, ev.Fixed)
				}
			}
		}
	}
	sort.Slice(fixes, func(i, j int) bool { return lessVersion(fixes[i], fixes[j]) })
	for _, f := range fixes {
		if !e.affects(path, f) {
			return canonicalVersion(f)
		}
	}
	return ""
}
