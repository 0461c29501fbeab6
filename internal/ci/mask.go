package ci

import (
	"io"
	"net/url"
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

// URLSecrets returns the secret parts of a URL: the `sig` of a signed URL
// (Azure shared access signatures, which the GitHub cache service hands
// out), other signature and credential query parameters (X-Amz-Signature,
// X-Amz-Credential, X-Amz-Security-Token, token) and the password of
// user:password@. It returns nothing for a URL it cannot parse.
func URLSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			out = append(out, p)
		}
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch strings.ToLower(k) {
		case "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
			"token", "access_token", "private_token", "x-goog-signature":
			for _, v := range q[k] {
				if v != "" {
					out = append(out, v)
					// The runner masks the text as printed: mask the
					// escaped form too when it differs.
					if e := url.QueryEscape(v); e != v {
						out = append(out, e)
					}
				}
			}
		}
	}
	return out
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

// Redact returns s with every known secret replaced by ***.
func (m *Masker) Redact(s string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, sec := range m.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
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
