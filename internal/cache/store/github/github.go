// Package github is the cache store on the GitHub Actions cache service,
// version 2: three Twirp calls to the results service and the blob itself
// moved to and from Azure Blob storage through signed URLs.
//
// It is a small hand client rather than github.com/tonistiigi/go-actions-cache:
// modhygiene needs only three calls and a streamed block upload, and the
// library chooses v1 or v2 from the environment (ACTIONS_CACHE_SERVICE_V2)
// and reads it itself, whereas modhygiene passes everything explicitly and
// must mask the signed URLs before anything can print them.
package github

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modhygiene/modhygiene/internal/cache/store"
)

// Options configure a Store.
type Options struct {
	// URL is ACTIONS_RESULTS_URL, the results service's base URL.
	URL string
	// Token is ACTIONS_RUNTIME_TOKEN.
	Token string
	// Version is the cache version string that scopes entries; empty means
	// one derived from the archive format.
	Version string
	// Client is the HTTP client; nil means one whose transport enforces
	// Timeouts.
	Client *http.Client
	// Timeouts bound every request (connect, first byte, idle between
	// bytes); the zero value is store.Timeouts' default. A request that
	// times out is not tried again: the caller's budget is better spent
	// elsewhere.
	Timeouts store.Timeouts
	// Mask is called with every signed URL before it is used, so that its
	// signature can be masked in the job log; nil does nothing.
	Mask func(signedURL string)
	// BlockSize is the size of an uploaded block; 0 means 32 MiB.
	BlockSize int
	// MaxRetryAfter is the longest Retry-After honoured on 429 or 503; a
	// longer one gives up. 0 means 60 seconds.
	MaxRetryAfter time.Duration
	// Sleep waits between retries; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Store is the Actions cache service. It is safe for concurrent use.
type Store struct {
	o    Options
	base string
}

var _ store.Store = (*Store)(nil)

const service = "/twirp/github.actions.results.api.v1.CacheService/"

// New returns a store for the service at o.URL.
func New(o Options) (*Store, error) {
	if o.URL == "" || o.Token == "" {
		return nil, errors.New("the github store needs ACTIONS_RESULTS_URL and ACTIONS_RUNTIME_TOKEN, which the runner gives only to node and container actions")
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("ACTIONS_RESULTS_URL is not an http(s) URL")
	}
	if o.Version == "" {
		sum := sha256.Sum256([]byte("modhygiene|v1|tar+zstd"))
		o.Version = hex.EncodeToString(sum[:])
	}
	if o.Client == nil {
		o.Client = &http.Client{Transport: o.Timeouts.Transport()}
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 32 << 20
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = time.Minute
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	return &Store{o: o, base: strings.TrimRight(o.URL, "/")}, nil
}

// String names the store.
func (s *Store) String() string { return "the GitHub Actions cache" }

// twirpError is an error answer of the service.
type twirpError struct {
	Status int
	Code   string `json:"code"`
	Msg    string `json:"msg"`
}

// Error returns the status, code and message.
func (e *twirpError) Error() string {
	return fmt.Sprintf("cache service: %d %s: %s", e.Status, e.Code, e.Msg)
}

// call posts one Twirp request and decodes the answer into out.
func (s *Store) call(ctx context.Context, method string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	resp, err := s.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+service+method, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+s.o.Token)
		return req, nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if resp.StatusCode != http.StatusOK {
		te := &twirpError{Status: resp.StatusCode}
		json.Unmarshal(data, te)
		if te.Code == "" {
			te.Code = http.StatusText(resp.StatusCode)
		}
		return fmt.Errorf("%s: %w", method, te)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: decoding answer: %w", method, err)
	}
	return nil
}

// do sends a request made by mk, retrying up to three times on 429, 5xx
// and connection errors other than timeouts. It honours Retry-After up to
// MaxRetryAfter and gives up beyond it rather than hammering a throttled
// service. Errors never include the URL.
func (s *Store) do(ctx context.Context, mk func() (*http.Request, error)) (*http.Response, error) {
	const tries = 3
	for i := 1; ; i++ {
		req, err := mk()
		if err != nil {
			return nil, err
		}
		resp, err := s.o.Client.Do(req)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the URL may carry a signature
			}
			if i < tries && ctx.Err() == nil && !store.IsTimeout(err) {
				if serr := s.o.Sleep(ctx, time.Duration(i)*time.Second); serr == nil {
					continue
				}
			}
			return nil, err
		}
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
			return resp, nil
		}
		wait := time.Duration(i) * time.Second
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs >= 0 {
				wait = time.Duration(secs) * time.Second
			} else if t, err := http.ParseTime(ra); err == nil {
				wait = time.Until(t)
			}
		}
		if i >= tries || wait > s.o.MaxRetryAfter {
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err := s.o.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type downloadReq struct {
	Key         string   `json:"key"`
	RestoreKeys []string `json:"restore_keys"`
	Version     string   `json:"version"`
}

type downloadResp struct {
	OK                bool   `json:"ok"`
	SignedDownloadURL string `json:"signed_download_url"`
	MatchedKey        string `json:"matched_key"`
}

// Open looks the key up (exact, then the prefixes: the service matches a
// restore key as a prefix and returns the newest) and starts the download.
func (s *Store) Open(ctx context.Context, key string, prefixes ...string) (*store.Entry, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, err
	}
	var out downloadResp
	if err := s.call(ctx, "GetCacheEntryDownloadURL", downloadReq{Key: key, RestoreKeys: prefixes, Version: s.o.Version}, &out); err != nil {
		var te *twirpError
		if errors.As(err, &te) && te.Code == "not_found" {
			return nil, store.ErrNotFound
		}
		return nil, err
	}
	if !out.OK || out.SignedDownloadURL == "" {
		return nil, store.ErrNotFound
	}
	if out.MatchedKey == "" {
		out.MatchedKey = key
	}
	if err := store.CheckKey(out.MatchedKey); err != nil {
		return nil, err
	}
	if s.o.Mask != nil {
		s.o.Mask(out.SignedDownloadURL)
	}
	resp, err := s.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.SignedDownloadURL, nil)
		if err != nil {
			return nil, errors.New("invalid signed download URL")
		}
		return req, nil
	})
	if err != nil {
		return nil, fmt.Errorf("downloading %s: %w", out.MatchedKey, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, store.ErrNotFound
		}
		return nil, fmt.Errorf("downloading %s: blob storage answered %s", out.MatchedKey, resp.Status)
	}
	return &store.Entry{Key: out.MatchedKey, Size: resp.ContentLength, Body: resp.Body}, nil
}

type createReq struct {
	Key     string `json:"key"`
	Version string `json:"version"`
}

type createResp struct {
	OK              bool   `json:"ok"`
	SignedUploadURL string `json:"signed_upload_url"`
	Message         string `json:"message"`
}

type finalizeReq struct {
	Key       string `json:"key"`
	Version   string `json:"version"`
	SizeBytes int64  `json:"size_bytes,string"` // an int64: a string in protobuf's JSON
}

type finalizeResp struct {
	OK      bool   `json:"ok"`
	EntryID string `json:"entry_id"`
	Message string `json:"message"`
}

// Put reserves key, uploads body in blocks and finalizes the entry. A key
// that exists or is being written by another job is store.ErrExists.
func (s *Store) Put(ctx context.Context, key string, body io.Reader) (int64, error) {
	if err := store.CheckKey(key); err != nil {
		return 0, err
	}
	var cr createResp
	if err := s.call(ctx, "CreateCacheEntry", createReq{Key: key, Version: s.o.Version}, &cr); err != nil {
		var te *twirpError
		if errors.As(err, &te) && (te.Status == http.StatusConflict || te.Code == "already_exists") {
			return 0, store.ErrExists
		}
		return 0, err
	}
	if !cr.OK || cr.SignedUploadURL == "" {
		// The service answers ok:false when the key exists or another job
		// is writing it, and also, with its reason in the message, when the
		// job may not write (a read-only token: "cache write denied: ...").
		if strings.HasPrefix(cr.Message, deniedPrefix) {
			return 0, fmt.Errorf("CreateCacheEntry %s: %s", key, cr.Message)
		}
		if cr.Message != "" {
			return 0, fmt.Errorf("%w (the service says: %s)", store.ErrExists, cr.Message)
		}
		return 0, store.ErrExists
	}
	if s.o.Mask != nil {
		s.o.Mask(cr.SignedUploadURL)
	}
	n, err := s.upload(ctx, cr.SignedUploadURL, body)
	if err != nil {
		return 0, fmt.Errorf("uploading %s: %w", key, err)
	}
	var fr finalizeResp
	if err := s.call(ctx, "FinalizeCacheEntryUpload", finalizeReq{Key: key, Version: s.o.Version, SizeBytes: n}, &fr); err != nil {
		return 0, err
	}
	if !fr.OK {
		return 0, fmt.Errorf("FinalizeCacheEntryUpload %s: not ok: %s", key, fr.Message)
	}
	return n, nil
}

// upload sends body to the signed URL: one Put Blob when it fits in a
// block, else Put Block for each block and Put Block List.
func (s *Store) upload(ctx context.Context, signed string, body io.Reader) (int64, error) {
	buf := make([]byte, s.o.BlockSize)
	var ids []string
	var total int64
	for {
		n, err := io.ReadFull(body, buf)
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			return total, err
		}
		if len(ids) == 0 && last {
			return int64(n), s.put(ctx, signed, nil, buf[:n], "BlockBlob")
		}
		if n > 0 {
			id := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("mh-%08d", len(ids))))
			if err := s.put(ctx, signed, url.Values{"comp": {"block"}, "blockid": {id}}, buf[:n], ""); err != nil {
				return total, err
			}
			ids = append(ids, id)
			total += int64(n)
		}
		if last {
			break
		}
	}
	var xml strings.Builder
	xml.WriteString(`<?xml version="1.0" encoding="utf-8"?><BlockList>`)
	for _, id := range ids {
		xml.WriteString("<Latest>" + id + "</Latest>")
	}
	xml.WriteString("</BlockList>")
	return total, s.put(ctx, signed, url.Values{"comp": {"blocklist"}}, []byte(xml.String()), "")
}

func (s *Store) put(ctx context.Context, signed string, extra url.Values, data []byte, blobType string) error {
	u, err := url.Parse(signed)
	if err != nil {
		return errors.New("invalid signed upload URL")
	}
	if len(extra) > 0 {
		q := u.Query()
		for k, v := range extra {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	resp, err := s.do(ctx, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		req.ContentLength = int64(len(data))
		req.Header.Set("x-ms-version", "2020-10-02")
		if blobType != "" {
			req.Header.Set("x-ms-blob-type", blobType)
		}
		return req, nil
	})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("blob storage answered %s", resp.Status)
	}
	return nil
}

// deniedPrefix starts the message of a CreateCacheEntry answer that
// refuses a job the right to write (a read-only token), as the service
// and @actions/cache agree.
const deniedPrefix = "cache write denied:"

var _ store.Checker = (*Store)(nil)

// Exists looks the exact key up without downloading it.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if err := store.CheckKey(key); err != nil {
		return false, err
	}
	var out downloadResp
	if err := s.call(ctx, "GetCacheEntryDownloadURL", downloadReq{Key: key, Version: s.o.Version}, &out); err != nil {
		var te *twirpError
		if errors.As(err, &te) && te.Code == "not_found" {
			return false, nil
		}
		return false, err
	}
	return out.OK && out.SignedDownloadURL != "" && (out.MatchedKey == "" || out.MatchedKey == key), nil
}
