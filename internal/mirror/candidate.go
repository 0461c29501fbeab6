package mirror

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/modhygiene/modhygiene/internal/ci"
	"github.com/modhygiene/modhygiene/internal/gocmd"
)

// Candidate is a module proxy that may go into GOPROXY.
type Candidate struct {
	// Name is the preset name ("aliyun"), "current" or "default" for URLs
	// taken from the environment or the go command, or "" for a URL given
	// on the command line. A URL named twice carries both names, joined
	// with "+".
	Name string `json:"name,omitempty"`
	// URL is the proxy's base URL as it goes into GOPROXY.
	URL string `json:"url"`
}

// Label returns the name, or the URL with its credentials removed (see
// ci.RedactURL) when there is none.
func (c Candidate) Label() string {
	if c.Name != "" {
		return c.Name
	}
	return ci.RedactURL(c.URL)
}

// base returns the URL without a trailing slash, for building request URLs.
func (c Candidate) base() string { return strings.TrimRight(c.URL, "/") }

// Presets are the well-known public mirrors, by name. The go command's own
// default proxy is the "default" candidate, read from the go command.
var Presets = []Candidate{
	{Name: "aliyun", URL: "https://mirrors.aliyun.com/goproxy/"},
	{Name: "goproxy.cn", URL: "https://goproxy.cn"},
	{Name: "goproxy.io", URL: "https://goproxy.io"},
	{Name: "tencent", URL: "https://mirrors.tencent.com/go/"},
}

// DefaultList is the candidate list used when none is given: what GOPROXY
// is now, the presets, and the go command's default proxy.
const DefaultList = "current,aliyun,goproxy.cn,goproxy.io,tencent,default"

// Sources are the proxy lists the names "current" and "default" stand for.
type Sources struct {
	// Current is GOPROXY as the go command sees it now.
	Current string
	// Default is the go command's default GOPROXY (see Defaults).
	Default string
}

// Candidates parses a comma-separated list of preset names, "current",
// "default" and http(s) URLs. "current" and "default" expand to the proxy
// URLs of their GOPROXY lists ("direct", "off" and file:// entries are
// skipped). Duplicates (by URL, ignoring a trailing slash) are merged.
func Candidates(list string, src Sources) ([]Candidate, error) {
	var out []Candidate
	index := map[string]int{}
	add := func(c Candidate) {
		key := c.base()
		if i, ok := index[key]; ok {
			if c.Name != "" && !strings.Contains("+"+out[i].Name+"+", "+"+c.Name+"+") {
				if out[i].Name == "" {
					out[i].Name = c.Name
				} else {
					out[i].Name += "+" + c.Name
				}
			}
			return
		}
		index[key] = len(out)
		out = append(out, c)
	}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch item {
		case "":
			continue
		case "current", "default":
			v := src.Current
			if item == "default" {
				v = src.Default
			}
			for _, u := range ProxyURLs(v) {
				add(Candidate{Name: item, URL: u})
			}
			continue
		}
		if p, ok := preset(item); ok {
			add(p)
			continue
		}
		u, err := url.Parse(item)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("candidate %q is neither a preset (current, default, %s) nor an http(s) URL", ci.Redact(item), presetNames())
		}
		add(Candidate{URL: item})
	}
	// A URL given by hand that is also a preset takes the preset's name.
	for i := range out {
		if out[i].Name == "" {
			if p, ok := presetByURL(out[i].URL); ok {
				out[i].Name = p.Name
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no candidate proxies in %q", ci.Redact(list))
	}
	return out, nil
}

// ProxyURLs returns the http(s) proxy URLs of a GOPROXY value, in order,
// without "direct", "off" or file:// entries.
func ProxyURLs(goproxy string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(goproxy, func(r rune) bool { return r == ',' || r == '|' }) {
		f = strings.TrimSpace(f)
		if strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "http://") {
			out = append(out, f)
		}
	}
	return out
}

func preset(name string) (Candidate, bool) {
	for _, p := range Presets {
		if p.Name == name {
			return p, true
		}
	}
	return Candidate{}, false
}

func presetByURL(u string) (Candidate, bool) {
	for _, p := range Presets {
		if p.base() == strings.TrimRight(u, "/") {
			return p, true
		}
	}
	return Candidate{}, false
}

func presetNames() string {
	var names []string
	for _, p := range Presets {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// GoDefaults are the go command's built-in settings.
type GoDefaults struct {
	// GOPROXY is the default proxy list.
	GOPROXY string
	// GOSUMDB is the default checksum database.
	GOSUMDB string
}

// Defaults asks the go command for its default GOPROXY and GOSUMDB: it runs
// `go env` with both removed from r's environment and GOENV=off, so neither
// the environment nor a `go env -w` file can mask the defaults.
func Defaults(ctx context.Context, r *gocmd.Runner, dir string) (GoDefaults, error) {
	var env []string
	for _, kv := range r.Env {
		k, _, _ := strings.Cut(kv, "=")
		if k != "GOPROXY" && k != "GOSUMDB" && k != "GOENV" {
			env = append(env, kv)
		}
	}
	clean := &gocmd.Runner{Go: r.Go, Env: append(env, "GOENV=off")}
	m, err := clean.GoEnv(ctx, dir, "GOPROXY", "GOSUMDB")
	if err != nil {
		return GoDefaults{}, fmt.Errorf("reading the go command's default GOPROXY: %w", err)
	}
	return GoDefaults{GOPROXY: m["GOPROXY"], GOSUMDB: m["GOSUMDB"]}, nil
}
