package check

// Twin is a pair of module paths that hold the same code: a rename, a fork
// that took over, or a re-publication under a new path.
type Twin struct {
	// Old is the path that should go away. A path without a major-version
	// suffix also matches its /vN and +incompatible majors.
	Old string
	// New is the maintained path. Like Old, it matches its other majors.
	New string
	// OldBefore, when set, limits the pair to versions of Old below it:
	// github.com/golang/protobuf from v1.4.0 on is a thin shim over
	// google.golang.org/protobuf, so the two are not twins any more.
	OldBefore string
	// Reason says why the two are the same code.
	Reason string
	// DropIn is set when New keeps Old's package names and API at the
	// matching major version, so that rewriting the import paths is the
	// whole move: only then does the fix rewrite imports.
	DropIn bool
	// Guide is where the move is explained when it is not a drop-in.
	Guide string
}

// KnownTwins are the renames and forks modhygiene knows. The configuration
// file's `twins:` entries are added to them. Two paths of one build list
// that differ only in letter case are twins without being listed.
var KnownTwins = []Twin{
	{Old: "github.com/dgrijalva/jwt-go", New: "github.com/golang-jwt/jwt", Reason: "dgrijalva/jwt-go is unmaintained; golang-jwt/jwt continues it", DropIn: true, Guide: "https://github.com/golang-jwt/jwt/blob/main/MIGRATION_GUIDE.md"},
	{Old: "github.com/form3tech-oss/jwt-go", New: "github.com/golang-jwt/jwt", Reason: "a fork of dgrijalva/jwt-go folded into golang-jwt/jwt", Guide: "https://github.com/golang-jwt/jwt/blob/main/MIGRATION_GUIDE.md"},
	{Old: "github.com/satori/go.uuid", New: "github.com/gofrs/uuid", Reason: "gofrs/uuid is the maintained fork of satori/go.uuid", Guide: "https://github.com/gofrs/uuid#readme"},
	{Old: "gopkg.in/yaml.v3", New: "go.yaml.in/yaml/v3", Reason: "the YAML organisation republished yaml.v3 as go.yaml.in/yaml/v3", DropIn: true},
	{Old: "gopkg.in/yaml.v2", New: "go.yaml.in/yaml/v2", Reason: "the YAML organisation republished yaml.v2 as go.yaml.in/yaml/v2", DropIn: true},
	{Old: "github.com/go-yaml/yaml", New: "gopkg.in/yaml.v2", Reason: "the GitHub path of the same repository as gopkg.in/yaml.v2", DropIn: true},
	{Old: "github.com/go-redis/redis", New: "github.com/redis/go-redis", Reason: "go-redis moved to the redis organisation", Guide: "https://redis.uptrace.dev/guide/go-redis-v9.html"},
	{Old: "github.com/Sirupsen/logrus", New: "github.com/sirupsen/logrus", Reason: "the owner's name changed case", DropIn: true},
	{Old: "github.com/ghodss/yaml", New: "sigs.k8s.io/yaml", Reason: "sigs.k8s.io/yaml is the maintained fork of ghodss/yaml", DropIn: true},
	{Old: "github.com/golang/protobuf", New: "google.golang.org/protobuf", OldBefore: "v1.4.0", Reason: "before v1.4 github.com/golang/protobuf is a separate implementation of protocol buffers", Guide: "https://go.dev/blog/protobuf-apiv2"},
	{Old: "github.com/golang/mock", New: "go.uber.org/mock", Reason: "golang/mock is archived; go.uber.org/mock continues it", DropIn: true},
	{Old: "github.com/golang/lint", New: "golang.org/x/lint", Reason: "the old GitHub path of golang.org/x/lint", DropIn: true},
	{Old: "github.com/garyburd/redigo", New: "github.com/gomodule/redigo", Reason: "redigo moved to the gomodule organisation", DropIn: true},
	{Old: "github.com/codegangsta/cli", New: "github.com/urfave/cli", Reason: "codegangsta/cli was renamed urfave/cli", DropIn: true},
	{Old: "github.com/go-ini/ini", New: "gopkg.in/ini.v1", Reason: "the GitHub path of the same repository as gopkg.in/ini.v1", DropIn: true},
	{Old: "github.com/uber-go/zap", New: "go.uber.org/zap", Reason: "the GitHub path of go.uber.org/zap", DropIn: true},
	{Old: "github.com/uber-go/atomic", New: "go.uber.org/atomic", Reason: "the GitHub path of go.uber.org/atomic", DropIn: true},
	{Old: "github.com/coreos/etcd", New: "go.etcd.io/etcd", Reason: "etcd moved to go.etcd.io", Guide: "https://etcd.io/docs/latest/upgrades/"},
	{Old: "github.com/coreos/bbolt", New: "go.etcd.io/bbolt", Reason: "bbolt moved to go.etcd.io", DropIn: true},
	{Old: "github.com/Shopify/sarama", New: "github.com/IBM/sarama", Reason: "sarama moved to the IBM organisation", DropIn: true},
	{Old: "github.com/nats-io/go-nats", New: "github.com/nats-io/nats.go", Reason: "go-nats was renamed nats.go", DropIn: true},
	{Old: "github.com/square/go-jose", New: "github.com/go-jose/go-jose", Reason: "go-jose moved to its own organisation", Guide: "https://github.com/go-jose/go-jose#versions"},
	{Old: "gopkg.in/square/go-jose.v2", New: "github.com/go-jose/go-jose", Reason: "go-jose moved to its own organisation", Guide: "https://github.com/go-jose/go-jose#versions"},
	{Old: "github.com/docker/distribution", New: "github.com/distribution/distribution", Reason: "docker/distribution moved to the distribution organisation", Guide: "https://github.com/distribution/distribution#readme"},
	{Old: "github.com/mitchellh/mapstructure", New: "github.com/go-viper/mapstructure", Reason: "mitchellh/mapstructure is archived; go-viper/mapstructure continues it", Guide: "https://github.com/go-viper/mapstructure#migrating-from-githubcommitchellhmapstructure"},
	{Old: "github.com/googleapis/gnostic", New: "github.com/google/gnostic", Reason: "gnostic moved to the google organisation", Guide: "https://github.com/google/gnostic#readme"},
	{Old: "github.com/xanzy/go-gitlab", New: "gitlab.com/gitlab-org/api/client-go", Reason: "go-gitlab moved to GitLab as gitlab-org/api/client-go", Guide: "https://gitlab.com/gitlab-org/api/client-go#migrating-from-xanzygo-gitlab"},
}

// Match says how the versions of a family's members correspond.
type Match string

// The ways members of a family match.
const (
	// Exact members are released at the same version.
	Exact Match = "exact"
	// Minor members share major.minor; patch releases are independent.
	Minor Match = "minor"
	// K8s members share minor.patch, whatever the major: k8s.io/kubernetes
	// v1.31.2 goes with the staging modules (k8s.io/api, ...) at v0.31.2.
	K8s Match = "k8s"
	// Stable is Exact among members at v1 or later; v0 members are numbered
	// on their own (OpenTelemetry's unstable modules) and are left out.
	Stable Match = "stable"
	// Independent marks modules that live under one prefix but are
	// versioned on their own (aws-sdk-go-v2's per-service modules): they
	// are never a family, whatever the requirements suggest.
	Independent Match = "independent"
)

// Family is a set of modules released together.
type Family struct {
	// Name is a label for messages.
	Name string
	// Prefixes match a module path equal to the prefix or below it.
	Prefixes []string
	// Modules are exact member paths.
	Modules []string
	// Match is how member versions correspond; empty means Exact.
	Match Match
}

// KnownFamilies are the families whose numbering the requirement graph
// alone cannot tell, or where it would mislead. Families are otherwise
// inferred (see rule_family.go): siblings under one path prefix or one
// repository whose releases require each other at the same version. The
// configuration file's `families:` entries are added before these, so they
// take precedence.
var KnownFamilies = []Family{
	{Name: "opentelemetry-go", Prefixes: []string{"go.opentelemetry.io/otel"}, Match: Stable},
	{Name: "kubernetes", Match: K8s, Modules: []string{
		"k8s.io/kubernetes", "k8s.io/api", "k8s.io/apiextensions-apiserver", "k8s.io/apimachinery",
		"k8s.io/apiserver", "k8s.io/cli-runtime", "k8s.io/client-go", "k8s.io/cloud-provider",
		"k8s.io/cluster-bootstrap", "k8s.io/code-generator", "k8s.io/component-base",
		"k8s.io/component-helpers", "k8s.io/controller-manager", "k8s.io/cri-api", "k8s.io/cri-client",
		"k8s.io/csi-translation-lib", "k8s.io/dynamic-resource-allocation", "k8s.io/endpointslice",
		"k8s.io/externaljwt", "k8s.io/kms", "k8s.io/kube-aggregator", "k8s.io/kube-controller-manager",
		"k8s.io/kube-proxy", "k8s.io/kube-scheduler", "k8s.io/kubectl", "k8s.io/kubelet",
		"k8s.io/metrics", "k8s.io/mount-utils", "k8s.io/pod-security-admission", "k8s.io/sample-apiserver",
	}},
	{Name: "aws-sdk-go-v2", Prefixes: []string{"github.com/aws/aws-sdk-go-v2"}, Match: Independent},
	{Name: "azure-sdk-for-go", Prefixes: []string{"github.com/Azure/azure-sdk-for-go"}, Match: Independent},
	{Name: "google-cloud-go", Prefixes: []string{"cloud.google.com/go"}, Match: Independent},
	{Name: "genproto", Prefixes: []string{"google.golang.org/genproto"}, Match: Independent},
	{Name: "golang.org/x", Prefixes: []string{"golang.org/x"}, Match: Independent},
}

func (f *Family) has(path string) bool {
	for _, m := range f.Modules {
		if m == path {
			return true
		}
	}
	for _, p := range f.Prefixes {
		if path == p || len(path) > len(p) && path[:len(p)] == p && path[len(p)] == '/' {
			return true
		}
	}
	return false
}
