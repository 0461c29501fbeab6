package mirror

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/modhygiene/modhygiene/internal/gocmd"
)

func TestCandidates(t *testing.T) {
	src := Sources{Current: "https://athens.corp.example,https://goproxy.cn|direct", Default: "https://dflt.example,direct"}
	tests := []struct {
		list    string
		want    []Candidate
		wantErr string
	}{
		{list: "aliyun,tencent", want: []Candidate{
			{Name: "aliyun", URL: "https://mirrors.aliyun.com/goproxy/"},
			{Name: "tencent", URL: "https://mirrors.tencent.com/go/"},
		}},
		{list: "current,goproxy.cn,default", want: []Candidate{
			{Name: "current", URL: "https://athens.corp.example"},
			{Name: "current+goproxy.cn", URL: "https://goproxy.cn"},
			{Name: "default", URL: "https://dflt.example"},
		}},
		{list: " https://nexus.corp.example/repository/go/ , https://goproxy.io/ ", want: []Candidate{
			{URL: "https://nexus.corp.example/repository/go/"},
			{Name: "goproxy.io", URL: "https://goproxy.io/"},
		}},
		{list: "aliyun,https://mirrors.aliyun.com/goproxy", want: []Candidate{
			{Name: "aliyun", URL: "https://mirrors.aliyun.com/goproxy/"},
		}},
		{list: "nosuch", wantErr: "neither a preset"},
		{list: "ftp://x.example", wantErr: "neither a preset"},
		{list: ",", wantErr: "no candidate"},
	}
	for _, tt := range tests {
		got, err := Candidates(tt.list, src)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Candidates(%q) error = %v, want %q", tt.list, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Candidates(%q): %v", tt.list, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Candidates(%q) (-want +got):\n%s", tt.list, diff)
		}
	}
	// current that is direct or off alone yields nothing from current.
	if _, err := Candidates("current", Sources{Current: "direct"}); err == nil {
		t.Error("current=direct: want an error for an empty list")
	}
}

func TestProxyURLs(t *testing.T) {
	got := ProxyURLs("https://a.example,file:///tmp/x|http://b.example|direct,off")
	if diff := cmp.Diff([]string{"https://a.example", "http://b.example"}, got); diff != "" {
		t.Error(diff)
	}
}

// TestDefaults runs the real go command: the default it reports must not
// be what the environment or a go env file says.
func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	envFile := dir + "/goenv"
	if err := os.WriteFile(envFile, []byte("GOPROXY=https://fromfile.example\nGOSUMDB=filesum.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := gocmd.Merge(os.Environ(), []string{"GOPROXY=https://fromenv.example", "GOSUMDB=off", "GOENV=" + envFile, "GOFLAGS=", "GOTOOLCHAIN=local"})
	d, err := Defaults(context.Background(), &gocmd.Runner{Env: env}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.GOPROXY == "" || strings.Contains(d.GOPROXY, "example") || !strings.HasPrefix(d.GOPROXY, "https://") {
		t.Errorf("default GOPROXY = %q", d.GOPROXY)
	}
	if d.GOSUMDB == "" || d.GOSUMDB == "off" || strings.Contains(d.GOSUMDB, "example") {
		t.Errorf("default GOSUMDB = %q", d.GOSUMDB)
	}
}
