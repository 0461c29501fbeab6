package ci

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://proxy.example/go", "https://proxy.example/go"},
		{"https://user:s3cret@proxy.example/go", "https://***@proxy.example/go"},
		{"https://ghp_t0ken@proxy.example", "https://***@proxy.example"},
		{"https://us%40er:p%40ss%3Aw%2Frd@proxy.example:8443/", "https://***@proxy.example:8443/"},
		{"https://user:@proxy.example", "https://***@proxy.example"},
		// A raw '/' or '#' in the password.
		{"https://user:pa/ss@proxy.example/go", "https://***@proxy.example/go"},
		{"https://user:pa#ss@proxy.example/go", "https://***@proxy.example/go"},
		// '@' in a path is not user information.
		{"https://proxy.example/example.com/m/@v/v1.0.0.info", "https://proxy.example/example.com/m/@v/v1.0.0.info"},
		{"https://proxy.example/sumdb/sum.example/lookup/example.com/m@v1.0.0", "https://proxy.example/sumdb/sum.example/lookup/example.com/m@v1.0.0"},
		{"https://[::1]:8080/x@y", "https://[::1]:8080/x@y"},
		{"https://u:p@[::1]:8080/", "https://***@[::1]:8080/"},
		// Lists: GOPROXY and GOSUMDB values.
		{"https://a.example|https://u:p1@b.example,direct", "https://a.example|https://***@b.example,direct"},
		{"sum.example https://tok3n@sum.mirror.example", "sum.example https://***@sum.mirror.example"},
		// Signed URLs.
		{"https://acct.blob.example/c/b?sv=2020&sig=abc%2Bdef%3D&se=x", "https://acct.blob.example/c/b?sv=2020&sig=***&se=x"},
		{"https://s3.example/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=ff", "https://s3.example/k?X-Amz-Credential=***&X-Amz-Signature=***"},
		{"direct", "direct"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactText(t *testing.T) {
	in := `go: example.com/m@v1.0.0: reading https://mh:Pw-s3cret@proxy.example/example.com/m/@v/v1.0.0.mod: 401 Unauthorized
Get "https://tok-s3cret@proxy.example/x": dial tcp: refused (GOPROXY=https://a.example|ssh://git:k3y@host)`
	want := `go: example.com/m@v1.0.0: reading https://***@proxy.example/example.com/m/@v/v1.0.0.mod: 401 Unauthorized
Get "https://***@proxy.example/x": dial tcp: refused (GOPROXY=https://a.example|ssh://***@host)`
	if diff := cmp.Diff(want, Redact(in)); diff != "" {
		t.Errorf("Redact (-want +got):\n%s", diff)
	}
	// Text without URLs is untouched, e-mail addresses included.
	for _, s := range []string{"module example.com/m@v1.0.0 is retracted", "mail me@example.com", "a=b&c=d", "://@"} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}

func TestURLSecretsUserinfo(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"https://mhuser:Pw-s3cret@proxy.example", []string{"mhuser", "Pw-s3cret"}},
		{"https://ghp_t0ken@proxy.example/", []string{"ghp_t0ken"}},
		// Raw, decoded and the form url.URL.String prints.
		{"https://us%65r1:p%40ss%3Aw%2Frd@proxy.example", []string{"us%65r1", "user1", "p%40ss%3Aw%2Frd", "p@ss:w/rd", "p%40ss%3Aw%2Frd"}},
		// Short parts are not masked (RedactURL still removes them).
		{"https://ci:abc@proxy.example", nil},
		{"https://proxy.example/a@b", nil},
	}
	for _, tt := range tests {
		got := URLSecrets(tt.in)
		want := dedup(tt.want)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("URLSecrets(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func dedup(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// TestSecretValuesGOPROXY checks that every form of GOPROXY credentials is
// masked on GitHub, and that what is masked is all a printed URL could show.
func TestSecretValuesGOPROXY(t *testing.T) {
	env := []string{"GOPROXY=https://mhuser:Pw-s3cret@a.example|https://mhtok-s3cret@b.example,https://p%40ss%2Fw0rd:x%2Fy%2Fz@c.example,direct"}
	got := SecretValues(env)
	for _, s := range []string{"mhuser", "Pw-s3cret", "mhtok-s3cret", "p%40ss%2Fw0rd", "p@ss/w0rd", "x%2Fy%2Fz", "x/y/z"} {
		if !contains(got, s) {
			t.Errorf("SecretValues does not mask %q: %q", s, got)
		}
	}
	var b bytes.Buffer
	for _, s := range got {
		Mask(&b, s)
	}
	masked := b.String()
	for _, line := range strings.Split(strings.TrimSpace(masked), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			t.Errorf("not a mask command: %q", line)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestMaskerRedactsURLs(t *testing.T) {
	var cmds, out bytes.Buffer
	m := NewMasker(GitHub, &cmds)
	m.MaskURL("https://mhuser:Pw-s3cret@proxy.example")
	w := m.Writer(&out)
	w.Write([]byte("the password Pw-s3cret, and https://other:0ther-s3cret@x.example\n"))
	if got, want := out.String(), "the password ***, and https://***@x.example\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := cmds.String(), "::add-mask::mhuser\n::add-mask::Pw-s3cret\n"; got != want {
		t.Errorf("commands %q, want %q", got, want)
	}
}
