package vuln

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// The messages of golang.org/x/vuln's JSON stream (protocol v1.0.0, see
// golang.org/x/vuln/internal/govulncheck). Only the fields modhygiene uses
// are declared; unknown fields are ignored, as the protocol asks.

// message is one message of the stream; exactly one field is set.
type message struct {
	Config   *StreamConfig `json:"config,omitempty"`
	Progress *struct {
		Message string `json:"message,omitempty"`
	} `json:"progress,omitempty"`
	SBOM *struct {
		GoVersion string       `json:"go_version,omitempty"`
		Modules   []ModuleInfo `json:"modules,omitempty"`
	} `json:"SBOM,omitempty"`
	OSV     *Entry `json:"osv,omitempty"`
	Finding *Hit   `json:"finding,omitempty"`
}

// StreamConfig is the config message that opens a stream.
type StreamConfig struct {
	ProtocolVersion string     `json:"protocol_version"`
	ScannerName     string     `json:"scanner_name,omitempty"`
	ScannerVersion  string     `json:"scanner_version,omitempty"`
	DB              string     `json:"db,omitempty"`
	DBLastModified  *time.Time `json:"db_last_modified,omitempty"`
	GoVersion       string     `json:"go_version,omitempty"`
	ScanLevel       string     `json:"scan_level,omitempty"`
	ScanMode        string     `json:"scan_mode,omitempty"`
}

// Entry is an OSV entry in the Go vulnerability database format.
type Entry struct {
	SchemaVersion    string     `json:"schema_version,omitempty"`
	ID               string     `json:"id"`
	Modified         time.Time  `json:"modified"`
	Published        time.Time  `json:"published,omitempty"`
	Withdrawn        *time.Time `json:"withdrawn,omitempty"`
	Aliases          []string   `json:"aliases,omitempty"`
	Summary          string     `json:"summary,omitempty"`
	Details          string     `json:"details"`
	Affected         []Affected `json:"affected"`
	DatabaseSpecific *struct {
		URL string `json:"url,omitempty"`
	} `json:"database_specific,omitempty"`
}

// Affected is one affected module of an Entry.
type Affected struct {
	Module struct {
		Path      string `json:"name"`
		Ecosystem string `json:"ecosystem"`
	} `json:"package"`
	Ranges []Range `json:"ranges,omitempty"`
}

// Range is a range of affected versions: events sorted by version, each
// introducing or fixing the vulnerability. Versions have no "v" prefix.
type Range struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

// ModuleInfo is a module of the scanned build, as the SBOM message lists it
// (a replaced module under its replacement).
type ModuleInfo struct {
	Path    string `json:"path,omitempty"`
	Version string `json:"version,omitempty"`
}

// Hit is a finding message: a vulnerability reached at the depth its trace
// shows.
type Hit struct {
	OSV          string   `json:"osv,omitempty"`
	FixedVersion string   `json:"fixed_version,omitempty"`
	Trace        []*Frame `json:"trace,omitempty"`
}

// Frame is one frame of a Hit's trace, the vulnerable symbol first and the
// entry point last.
type Frame struct {
	Module   string    `json:"module"`
	Version  string    `json:"version,omitempty"`
	Package  string    `json:"package,omitempty"`
	Function string    `json:"function,omitempty"`
	Receiver string    `json:"receiver,omitempty"`
	Position *Position `json:"position,omitempty"`
}

// Position is a source position; Filename is relative to the directory of
// the frame's module.
type Position struct {
	Filename string `json:"filename,omitempty"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
}

// Symbol returns the frame's function as pkg.Func or pkg.Recv.Method, with
// the package's last path element.
func (f *Frame) Symbol() string {
	name := f.Function
	if f.Receiver != "" {
		name = strings.TrimPrefix(f.Receiver, "*") + "." + name
	}
	pkg := f.Package
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	if pkg == "" {
		return name
	}
	return pkg + "." + name
}

// Reach is how far a vulnerability reaches into the scanned code.
type Reach int

// The reaches, weakest first.
const (
	// Required means the vulnerable module version is in the build list.
	Required Reach = iota + 1
	// Imported means a vulnerable package is imported.
	Imported
	// Called means a vulnerable function is called.
	Called
)

var reachNames = [...]string{Required: "required", Imported: "imported", Called: "called"}

// String names r.
func (r Reach) String() string {
	if r > 0 && int(r) < len(reachNames) {
		return reachNames[r]
	}
	return fmt.Sprintf("reach(%d)", int(r))
}

// reachOf returns how deep a finding message reaches, from its first frame.
func reachOf(h *Hit) Reach {
	if len(h.Trace) == 0 {
		return Required
	}
	switch f := h.Trace[0]; {
	case f.Function != "":
		return Called
	case f.Package != "":
		return Imported
	}
	return Required
}

// Vuln is one vulnerability in one vulnerable module of a scanned module,
// at its deepest reach.
type Vuln struct {
	// ID is the OSV ID, such as GO-2022-1059.
	ID string
	// Entry is the OSV entry (nil if the stream did not carry it).
	Entry *Entry
	// Module and Version are the vulnerable module as the scan saw it
	// ("stdlib" or "toolchain" for Go itself; the replacement for a replaced
	// module).
	Module, Version string
	// Fixed is the version that fixes it, "" when there is none.
	Fixed string
	// Reach is the deepest reach seen.
	Reach Reach
	// Packages are the vulnerable packages imported (Reach >= Imported).
	Packages []string
	// Symbols are the vulnerable functions called (Reach == Called).
	Symbols []string
	// Trace is the first call trace seen, vulnerable symbol first.
	Trace []*Frame
}

// Report is a parsed stream: what one scan of one module found.
type Report struct {
	// Config is the stream's config message.
	Config StreamConfig
	// Modules are the modules the scan loaded packages from (the SBOM).
	Modules []ModuleInfo
	// Entries are the OSV entries of the stream, by ID.
	Entries map[string]*Entry
	// Vulns are sorted by ID, then module.
	Vulns []*Vuln
}

// Parse reads x/vuln's JSON stream from r and reduces it to one Vuln per
// vulnerability and vulnerable module. It does no other I/O.
func Parse(r io.Reader) (*Report, error) {
	dec := json.NewDecoder(r)
	rep := &Report{}
	entries := map[string]*Entry{}
	type key struct{ id, mod string }
	byKey := map[key]*Vuln{}
	seenConfig := false
	for {
		var m message
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading x/vuln stream: %w", err)
		}
		switch {
		case m.Config != nil:
			rep.Config, seenConfig = *m.Config, true
		case m.SBOM != nil:
			rep.Modules = append(rep.Modules, m.SBOM.Modules...)
		case m.OSV != nil:
			entries[m.OSV.ID] = m.OSV
		case m.Finding != nil:
			h := m.Finding
			if h.OSV == "" || len(h.Trace) == 0 {
				continue
			}
			f0 := h.Trace[0]
			k := key{h.OSV, f0.Module}
			v := byKey[k]
			if v == nil {
				v = &Vuln{ID: h.OSV, Module: f0.Module, Version: f0.Version, Fixed: h.FixedVersion}
				byKey[k] = v
			}
			reach := reachOf(h)
			if reach > v.Reach {
				v.Reach = reach
			}
			if reach >= Imported {
				v.Packages = addUnique(v.Packages, f0.Package)
			}
			if reach == Called {
				v.Symbols = addUnique(v.Symbols, f0.Symbol())
				if v.Trace == nil {
					v.Trace = h.Trace
				}
			}
		}
	}
	if !seenConfig {
		return nil, errors.New("reading x/vuln stream: no config message")
	}
	rep.Entries = entries
	for _, v := range byKey {
		v.Entry = entries[v.ID]
		sort.Strings(v.Packages)
		sort.Strings(v.Symbols)
		rep.Vulns = append(rep.Vulns, v)
	}
	rep.sort()
	return rep, nil
}

func (rep *Report) sort() {
	sort.Slice(rep.Vulns, func(i, j int) bool {
		a, b := rep.Vulns[i], rep.Vulns[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Module < b.Module
	})
}

func addUnique(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
