// Package s3 is the cache store on any S3-compatible object store (AWS S3,
// MinIO, Ceph, Aliyun OSS) through github.com/minio/minio-go/v7.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// Store keeps each entry as the object PREFIX/KEY in a bucket. Objects are
// written whole (S3 makes a PUT or a completed multipart upload visible at
// once), so concurrent writers are safe.
type Store struct {
	client *minio.Client
	bucket string
	prefix string
	desc   string
}

var _ store.Store = (*Store)(nil)

// New parses s3://BUCKET/PREFIX?endpoint=HOST[:PORT]&region=R&style=virtual|path&insecure=true
// and returns its store. Credentials come from getenv: AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the region defaults to
// AWS_REGION or AWS_DEFAULT_REGION and the endpoint to AWS_ENDPOINT_URL_S3,
// AWS_ENDPOINT_URL or s3.amazonaws.com. Virtual-hosted-style addressing
// (style=virtual) is what Aliyun OSS needs; the default is chosen by the
// client from the endpoint.
func New(spec string, getenv func(string) string) (*Store, error) {
	return NewWith(spec, getenv, Options{})
}

// Options tune a Store. The zero value is the default.
type Options struct {
	// Timeouts bound every request (connect, first byte, idle between
	// bytes); the zero value is store.Timeouts' default.
	Timeouts store.Timeouts
}

// NewWith is New with options.
func NewWith(spec string, getenv func(string) string, o Options) (*Store, error) {
	u, err := url.Parse(spec)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("%q: want s3://BUCKET/PREFIX?endpoint=HOST&region=R", spec)
	}
	q := u.Query()
	endpoint := q.Get("endpoint")
	secure := true
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL_S3")
	}
	if endpoint == "" {
		endpoint = getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	if e, err := url.Parse(endpoint); err == nil && (e.Scheme == "http" || e.Scheme == "https") {
		secure, endpoint = e.Scheme == "https", e.Host
	}
	switch q.Get("insecure") {
	case "true", "1":
		secure = false
	}
	region := q.Get("region")
	if region == "" {
		region = getenv("AWS_REGION")
	}
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	lookup := minio.BucketLookupAuto
	switch q.Get("style") {
	case "virtual":
		lookup = minio.BucketLookupDNS
	case "path":
		lookup = minio.BucketLookupPath
	case "":
	default:
		return nil, fmt.Errorf("%q: style must be virtual or path", spec)
	}
	var creds *credentials.Credentials
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		creds = credentials.NewStaticV4(id, secret, getenv("AWS_SESSION_TOKEN"))
	} else {
		creds = credentials.NewStatic("", "", "", credentials.SignatureAnonymous)
	}
	c, err := minio.New(endpoint, &minio.Options{Creds: creds, Secure: secure, Region: region, BucketLookup: lookup, Transport: o.Timeouts.Transport(),
		// A cache that is down must not stall the job: a few quick retries, then a miss.
		MaxRetries: 3})
	if err != nil {
		return nil, err
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &Store{client: c, bucket: u.Host, prefix: prefix, desc: "s3://" + u.Host + "/" + prefix}, nil
}

// String names the bucket and prefix.
func (s *Store) String() string { return s.desc }

// Open returns the object KEY or the newest whose key starts with a prefix.
func (s *Store) Open(ctx context.Context, key string, prefixes ...string) (*store.Entry, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, err
	}
	e, err := s.open(ctx, key)
	if !errors.Is(err, store.ErrNotFound) {
		return e, err
	}
	for _, p := range prefixes {
		type obj struct {
			key string
			t   int64
		}
		var objs []obj
		for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + p}) {
			if o.Err != nil {
				return nil, o.Err
			}
			k := strings.TrimPrefix(o.Key, s.prefix)
			if store.CheckKey(k) == nil {
				objs = append(objs, obj{k, o.LastModified.UnixNano()})
			}
		}
		if len(objs) == 0 {
			continue
		}
		sort.Slice(objs, func(i, j int) bool {
			if objs[i].t != objs[j].t {
				return objs[i].t > objs[j].t
			}
			return objs[i].key > objs[j].key
		})
		return s.open(ctx, objs[0].key)
	}
	return nil, store.ErrNotFound
}

// open reads the object KEY with one request: the client's GetObject
// would send a HEAD before the GET to learn the size, which the GET's own
// answer carries.
func (s *Store) open(ctx context.Context, key string) (*store.Entry, error) {
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	return &store.Entry{Key: key, Size: info.Size, Body: body}, nil
}

// Put uploads body as the object KEY, in parts when it is large. An object
// already there is store.ErrExists.
func (s *Store) Put(ctx context.Context, key string, body io.Reader) (int64, error) {
	if err := store.CheckKey(key); err != nil {
		return 0, err
	}
	if _, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{}); err == nil {
		return 0, store.ErrExists
	} else if minio.ToErrorResponse(err).StatusCode != http.StatusNotFound {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, body, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    16 << 20,
		// Unsigned payloads: no second pass to hash each part and no
		// aws-chunked framing, which some S3-compatible servers store as is
		// over plain http. The archive carries its own SHA-256 in the manifest.
		DisableContentSha256: true,
	})
	if err != nil {
		return 0, err
	}
	return info.Size, nil
}

var _ store.Checker = (*Store)(nil)

// Exists reports whether the object is present.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := store.CheckKey(key); err != nil {
		return false, err
	}
	_, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err == nil {
		return true, nil
	}
	if minio.ToErrorResponse(err).StatusCode == http.StatusNotFound {
		return false, nil
	}
	return false, err
}
