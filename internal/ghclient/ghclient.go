// Package ghclient is the GitHub API client every ibbot feature shares:
// go-github over a transport that makes every repeated GET a conditional
// request (a 304 costs no rate limit) and that works without a token (60
// requests an hour) as well as with one.
package ghclient

import (
	"bytes"
	"container/list"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure New.
type Options struct {
	Token   string // empty: anonymous, 60 requests an hour
	BaseURL string // API root; empty: https://api.github.com/
	// HTTPClient's transport is wrapped; nil means http.DefaultTransport.
	HTTPClient *http.Client
	// CacheEntries bounds the conditional-request cache; default 512.
	CacheEntries int
	// Metrics, when set, gets ibbot_github_rate_limit_remaining, which
	// follows X-RateLimit-Remaining of every answer, so an operator can see
	// the budget running out.
	Metrics prometheus.Registerer
}

// remainingGauge registers the rate-limit gauge with reg (nil: none).
func remainingGauge(reg prometheus.Registerer) prometheus.Gauge {
	if reg == nil {
		return nil
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "ibbot_github_rate_limit_remaining", Help: "GitHub API requests left in the current rate-limit window.",
	})
	reg.MustRegister(g)
	return g
}

// New returns a go-github client with conditional requests.
func New(opts Options) (*github.Client, error) {
	base := http.DefaultTransport
	if opts.HTTPClient != nil && opts.HTTPClient.Transport != nil {
		base = opts.HTTPClient.Transport
	}
	if opts.CacheEntries <= 0 {
		opts.CacheEntries = 512
	}
	hc := &http.Client{
		Transport: &conditionalTransport{next: base, token: opts.Token, cache: newLRU(opts.CacheEntries), remaining: remainingGauge(opts.Metrics)},
		Timeout:   30 * time.Second,
	}
	c := github.NewClient(hc)
	if opts.BaseURL != "" {
		u := strings.TrimSuffix(opts.BaseURL, "/") + "/"
		var err error
		if c, err = c.WithEnterpriseURLs(u, u); err != nil {
			return nil, fmt.Errorf("github.api_url: %w", err)
		}
		// WithEnterpriseURLs appends api/v3/ for GitHub Enterprise hosts;
		// an explicit API root (a test server, a proxy) is used as given.
		c.BaseURL.Path = strings.TrimSuffix(mustPath(u), "/") + "/"
	}
	return c, nil
}

func mustPath(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return "/"
	}
	rest := raw[i+3:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return rest[j:]
	}
	return "/"
}

// conditionalTransport adds the token and turns repeated GETs into
// conditional requests, answering a 304 from its cache. Cached answers carry
// X-From-Cache, which go-github reads to leave its rate-limit state alone.
type conditionalTransport struct {
	next      http.RoundTripper
	token     string
	cache     *lru
	remaining prometheus.Gauge // may be nil
}

type cached struct {
	etag, lastModified string
	status             int
	header             http.Header
	body               []byte
}

// maxCachedBody keeps huge responses (25 MB webhooks, big diffs) out of memory.
const maxCachedBody = 2 << 20

func (t *conditionalTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	if req.Method != http.MethodGet {
		return t.next.RoundTrip(req)
	}
	key := req.URL.String()
	prev, hit := t.cache.get(key)
	if hit {
		if prev.etag != "" {
			req.Header.Set("If-None-Match", prev.etag)
		}
		if prev.lastModified != "" {
			req.Header.Set("If-Modified-Since", prev.lastModified)
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	t.noteRateLimit(resp)
	switch {
	case resp.StatusCode == http.StatusNotModified && hit:
		resp.Body.Close()
		return prev.response(req, resp.Header), nil
	case resp.StatusCode == http.StatusOK && (resp.Header.Get("ETag") != "" || resp.Header.Get("Last-Modified") != ""):
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxCachedBody+1))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		if len(body) <= maxCachedBody {
			t.cache.put(key, &cached{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"),
				status: resp.StatusCode, header: resp.Header.Clone(), body: body})
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}

func (t *conditionalTransport) noteRateLimit(resp *http.Response) {
	if t.remaining == nil {
		return
	}
	if n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); err == nil {
		t.remaining.Set(float64(n))
	}
}

// response rebuilds the cached answer, with the fresh rate-limit headers of
// the 304 so callers see the current state.
func (c *cached) response(req *http.Request, fresh http.Header) *http.Response {
	h := c.header.Clone()
	for _, k := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Poll-Interval", "Date"} {
		if v := fresh.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	h.Set("X-From-Cache", "1")
	return &http.Response{
		Status: "200 OK", StatusCode: c.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(c.body)), ContentLength: int64(len(c.body)), Request: req,
	}
}

// FromCache reports whether a go-github response was answered by a 304.
func FromCache(resp *github.Response) bool {
	return resp != nil && resp.Response != nil && resp.Header.Get("X-From-Cache") != ""
}

// Explain turns a GitHub error into a sentence for the room: rate limits
// say until when; other failures say GitHub is not answering.
func Explain(err error) string {
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	var resp *github.ErrorResponse
	switch {
	case errors.As(err, &rl):
		return fmt.Sprintf("GitHub's rate limit for ibbot is used up until %s UTC", rl.Rate.Reset.UTC().Format("15:04"))
	case errors.As(err, &abuse):
		return "GitHub asked ibbot to slow down; try again in a minute"
	case errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound:
		return "GitHub does not know that commit or repository"
	default:
		return "GitHub is not answering right now"
	}
}

// lru is a small, locked least-recently-used map.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val *cached
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), items: make(map[string]*list.Element)}
}

func (l *lru) get(key string) (*cached, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*lruEntry).val, true
	}
	return nil, false
}

func (l *lru) put(key string, val *cached) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.items[key]; ok {
		e.Value.(*lruEntry).val = val
		l.order.MoveToFront(e)
		return
	}
	l.items[key] = l.order.PushFront(&lruEntry{key, val})
	if l.order.Len() > l.max {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.items, oldest.Value.(*lruEntry).key)
	}
}
