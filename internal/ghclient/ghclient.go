// Package ghclient is the GitHub API client every ibbot feature shares:
// go-github over a transport that makes every repeated GET a conditional
// request (a 304 costs no rate limit) and that works without a token (60
// requests an hour) as well as with one.
package ghclient

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/osbuild/ibbot/internal/httpcache"
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
		Transport: httpcache.New(&authTransport{next: base, token: opts.Token, remaining: remainingGauge(opts.Metrics)},
			opts.CacheEntries, "X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset", "X-Poll-Interval"),
		Timeout: 30 * time.Second,
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

// authTransport adds the token to requests for the API and follows the
// rate limit GitHub reports; it sits under the cache, so it sees every
// real answer, 304s included.
type authTransport struct {
	next      http.RoundTripper
	token     string
	remaining prometheus.Gauge // may be nil
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.next.RoundTrip(req)
	if err == nil && t.remaining != nil {
		if n, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining")); err == nil {
			t.remaining.Set(float64(n))
		}
	}
	return resp, err
}

// FromCache reports whether a go-github response was answered by a 304.
func FromCache(resp *github.Response) bool {
	return resp != nil && httpcache.FromCache(resp.Response)
}

// Explain turns a GitHub error into a sentence for the room: rate limits
// say until when; other failures say GitHub is not answering.
func Explain(err error) string {
	if IsNotFound(err) {
		return "GitHub does not know that commit or repository"
	}
	var rl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	switch {
	case errors.As(err, &rl):
		return fmt.Sprintf("GitHub's rate limit for ibbot is used up until %s UTC", rl.Rate.Reset.UTC().Format("15:04"))
	case errors.As(err, &abuse):
		return "GitHub asked ibbot to slow down; try again in a minute"
	default:
		return "GitHub is not answering right now"
	}
}

// IsNotFound reports whether GitHub answered 404: the thing asked for does
// not exist (or is private, which GitHub does not tell apart), an answer
// for the person asking rather than a failure for the operator.
func IsNotFound(err error) bool {
	var resp *github.ErrorResponse
	return errors.As(err, &resp) && resp.Response != nil && resp.Response.StatusCode == http.StatusNotFound
}
