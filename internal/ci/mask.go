package ci

import (
	"io"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Mask writes `::add-mask::secret`, after which the GitHub runner replaces
// secret with *** in everything the job prints. Call it before anything can
// print the secret, and only on GitHub: elsewhere the command itself would
// print it (use a Masker, which knows the platform). Secrets that span lines
// are masked line by line; an empty secret is ignored.
func Mask(w io.Writer, secret string) error {
	for _, s := range strings.Split(strings.ReplaceAll(secret, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if err := Command(w, "add-mask", nil, s); err != nil {
			return err
		}
	}
	return nil
}

// URLSecrets returns the secret parts of a URL, each in every form it may be
// printed in: the user name and the password of its user information
// (user:password@, or a token as the user name), raw as written, decoded
// and re-encoded; the `sig` of a signed URL (Azure shared access
// signatures, which the GitHub cache service hands out) and other signature
// and credential query parameters (X-Amz-Signature, X-Amz-Credential,
// X-Amz-Security-Token, token ...), decoded and as escaped. Parts of the
// user information shorter than MinSecret are left out: masking them would
// hide ordinary text all over the log (RedactURL still removes them). It
// returns nothing for a string without a URL.
func URLSecrets(raw string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string, min int) {
		if len(s) >= min && s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if _, info, _, ok := splitUserinfo(raw, 0); ok {
		user, pass, hasPass := strings.Cut(info, ":")
		parts := []string{user}
		if hasPass {
			parts = append(parts, pass)
		}
		for _, p := range parts {
			add(p, MinSecret)
			if d, err := url.PathUnescape(p); err == nil {
				add(d, MinSecret)
				// The form url.URL.String prints.
				add(strings.TrimSuffix(url.User(d).String(), "@"), MinSecret)
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !secretParams[strings.ToLower(k)] {
			continue
		}
		for _, v := range q[k] {
			add(v, 1)
			// The runner masks the text as printed: mask the escaped
			// form too when it differs.
			add(url.QueryEscape(v), 1)
		}
	}
	return out
}

// secretParams are the query parameters whose values are credentials or
// signatures, in lower case.
var secretParams = map[string]bool{
	"sig": true, "signature": true, "x-amz-signature": true, "x-amz-credential": true,
	"x-amz-security-token": true, "token": true, "access_token": true, "private_token": true,
	"x-goog-signature": true, "x-goog-credential": true,
}

// Redacted stands in for a removed secret.
const Redacted = "***"

// RedactURL returns raw, a URL (or a list of them, such as a GOPROXY
// value), with every secret it can carry removed: the user information in
// any form (user:password@, a token as the user name, raw or
// percent-encoded) becomes "***@", and the values of signature and token
// query parameters become "***". The rest is kept as written, so a person
// still sees which host is meant. Text that holds no URL is returned as it
// is. Every URL modhygiene prints or stores goes through it (or through
// Redact for free text).
func RedactURL(raw string) string { return Redact(raw) }

// Redact returns text with the secrets of every URL in it removed, as
// RedactURL does: for free text that may quote URLs, such as an error
// message of the go command or an HTTP client.
func Redact(text string) string {
	if !strings.Contains(text, "://") && !strings.Contains(text, "=") {
		return text
	}
	var b strings.Builder
	from := 0
	for from < len(text) {
		start, _, end, ok := splitUserinfo(text, from)
		if !ok {
			break
		}
		b.WriteString(text[from:start])
		b.WriteString(Redacted)
		from = end
	}
	b.WriteString(text[from:])
	return secretQuery.ReplaceAllString(b.String(), "${1}"+Redacted)
}

// secretQuery matches a secret query parameter and its value.
var secretQuery = regexp.MustCompile(`(?i)([?&](?:sig|signature|x-amz-signature|x-amz-credential|x-amz-security-token|token|access_token|private_token|x-goog-signature|x-goog-credential)=)[^&#\s"'<>|,;)]+`)

// splitUserinfo finds the first URL at or after text[from:] that carries
// user information and returns where that information starts and ends
// (end is the index of the '@') and the information itself.
//
// The authority of a URL ends at the first '/', '?', '#', blank, quote or
// list separator after "scheme://"; the user information is what comes
// before its last '@'. A password holding a raw '/', '?' or '#' ends the
// authority early and leaves "user:pa" looking like a host with a bad
// port: then the user information runs to the last '@' before the next
// blank.
func splitUserinfo(text string, from int) (start int, info string, end int, ok bool) {
	for from < len(text) {
		i := strings.Index(text[from:], "://")
		if i < 0 {
			return 0, "", 0, false
		}
		start = from + i + len("://")
		from = start
		if !hasScheme(text[:start-len("://")]) {
			continue
		}
		auth := start
		for auth < len(text) && !strings.ContainsRune("/?#|,;\"'<>`) \t\r\n", rune(text[auth])) {
			auth++
		}
		if at := strings.LastIndexByte(text[start:auth], '@'); at >= 0 {
			return start, text[start : start+at], start + at, true
		}
		if badPort(text[start:auth]) {
			stop := start
			for stop < len(text) && !strings.ContainsRune(" \t\r\n\"'<>`", rune(text[stop])) {
				stop++
			}
			if at := strings.LastIndexByte(text[start:stop], '@'); at >= 0 {
				return start, text[start : start+at], start + at, true
			}
		}
	}
	return 0, "", 0, false
}

// hasScheme reports whether s ends in a URL scheme: a letter followed by
// letters, digits, '+', '-' or '.'.
func hasScheme(s string) bool {
	i := len(s)
	for i > 0 {
		c := s[i-1]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.' {
			i--
			continue
		}
		break
	}
	for i < len(s) && !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		i++ // a scheme starts with a letter
	}
	return i < len(s)
}

// badPort reports whether host has a ':' followed by something that is
// not a port number (IPv6 literals in brackets aside).
func badPort(host string) bool {
	if strings.HasPrefix(host, "[") {
		if j := strings.IndexByte(host, ']'); j >= 0 {
			host = host[j+1:]
		} else {
			return false
		}
	}
	_, port, ok := strings.Cut(host, ":")
	if !ok {
		return false
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}

// MaskURL masks the secret parts of a signed URL (see URLSecrets) with Mask.
func MaskURL(w io.Writer, raw string) error {
	for _, s := range URLSecrets(raw) {
		if err := Mask(w, s); err != nil {
			return err
		}
	}
	return nil
}

// SecretEnv lists the names in env (KEY=VALUE entries) whose values are
// secrets: tokens, passwords and secret keys, by the usual naming
// (GITHUB_TOKEN, GITLAB_TOKEN, *_SECRET_ACCESS_KEY, *_PASSWORD, INPUT_TOKEN
// ...), with a non-empty value. The runner's own ACTIONS_* tokens are left
// out: the runner masks them itself. The result is sorted.
func SecretEnv(env []string) []string {
	var names []string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" || !secretName(k) || strings.HasPrefix(strings.ToUpper(k), "ACTIONS_") {
			continue
		}
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// SecretValues returns the secrets in env: the values of SecretEnv, and the
// passwords and signatures in the URLs of GOPROXY and GOSUMDB (a company
// proxy is often https://user:token@proxy.example). Duplicates are dropped,
// and so are values shorter than MinSecret: masking them would hide ordinary
// text all over the log.
func SecretValues(env []string) []string {
	get := func(name string) string {
		val := ""
		for _, kv := range env {
			if k, v, ok := strings.Cut(kv, "="); ok && k == name {
				val = v
			}
		}
		return val
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if len(s) >= MinSecret && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, name := range SecretEnv(env) {
		add(get(name))
	}
	for _, list := range []string{get("GOPROXY"), get("GOSUMDB")} {
		for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '|' || r == ' ' }) {
			if strings.Contains(f, "://") {
				for _, s := range URLSecrets(f) {
					add(s)
				}
			}
		}
	}
	return out
}

// MinSecret is the length below which SecretValues ignores a value.
const MinSecret = 4

func secretName(k string) bool {
	u := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(k), "INPUT_"))
	u = strings.ReplaceAll(u, "-", "_")
	for _, suffix := range []string{"TOKEN", "_SECRET", "SECRET_KEY", "SECRET_ACCESS_KEY", "PASSWORD", "_PASS"} {
		if strings.HasSuffix(u, suffix) {
			return true
		}
	}
	return false
}

// Masker hides secrets on any platform. On GitHub, Mask also asks the runner
// to mask the secret in the whole job's log; everywhere, Redact and Writer
// replace the secrets it knows with ***. A Masker is safe for concurrent
// use. The zero value redacts and writes no workflow commands.
type Masker struct {
	// Commands receives ::add-mask:: commands; nil writes none. Set it only
	// on GitHub.
	Commands io.Writer

	mu      sync.Mutex
	secrets []string
}

// NewMasker returns a Masker for the platform p that writes workflow
// commands to w on GitHub.
func NewMasker(p Platform, w io.Writer) *Masker {
	m := &Masker{}
	if p == GitHub {
		m.Commands = w
	}
	return m
}

// Mask records secret and, on GitHub, masks it in the job's log.
func (m *Masker) Mask(secret string) error {
	if strings.TrimSpace(secret) == "" {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.secrets {
		if s == secret {
			return nil
		}
	}
	m.secrets = append(m.secrets, secret)
	// Longest first, so that a secret containing another is replaced whole.
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	if m.Commands != nil {
		return Mask(m.Commands, secret)
	}
	return nil
}

// MaskURL masks the secret parts of a signed URL (see URLSecrets).
func (m *Masker) MaskURL(raw string) error {
	for _, s := range URLSecrets(raw) {
		if err := m.Mask(s); err != nil {
			return err
		}
	}
	return nil
}

// Redact returns s with every known secret replaced by ***, and the
// secrets of every URL in it removed (see Redact).
func (m *Masker) Redact(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sec := range m.secrets {
		s = strings.ReplaceAll(s, sec, Redacted)
	}
	return Redact(s)
}

// Writer returns a writer that redacts each Write before passing it to w.
// A secret split across two writes is not recognised: write whole lines.
func (m *Masker) Writer(w io.Writer) io.Writer { return redactWriter{m, w} }

type redactWriter struct {
	m *Masker
	w io.Writer
}

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, r.m.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// MaskEnv asks the GitHub runner, on w, to mask the secrets of the
// environment env (tokens, passwords, secret keys, credentials in GOPROXY
// and GOSUMDB) before anything can print them; the runner masks its own
// ACTIONS_* tokens.
func MaskEnv(w io.Writer, env []string) {
	for _, s := range SecretValues(env) {
		Mask(w, s)
	}
}
