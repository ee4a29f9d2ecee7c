package ghclient

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/osbuild/ibbot/internal/testenv"
)

func newClient(t *testing.T, token string) (*github.Client, *testenv.GitHub) {
	t.Helper()
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	c, err := New(Options{BaseURL: fake.URL, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

func compare(c *github.Client) (*github.Response, error) {
	_, resp, err := c.Repositories.CompareCommits(context.Background(), "osbuild", "osbuild-composer", "abc1234", "main", nil)
	return resp, err
}

func TestRepeatedRequestsAreConditional(t *testing.T) {
	c, fake := newClient(t, "")
	if _, err := compare(c); err != nil {
		t.Fatal(err)
	}
	resp, err := compare(c)
	if err != nil {
		t.Fatal(err)
	}
	if !FromCache(resp) || fake.NotModified() != 1 {
		t.Errorf("second request: from cache %v, 304s %d; want a conditional request answered 304", FromCache(resp), fake.NotModified())
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("two identical requests cost %d rate-limit points, want 1", n)
	}
}

func TestSecondaryRateLimitStopsRequests(t *testing.T) {
	c, fake := newClient(t, "tok")
	fake.FailNext("/repos/", http.StatusForbidden, http.Header{"Retry-After": {"60"}})
	_, err := compare(c)
	if err == nil || !strings.Contains(Explain(err), "slow down") {
		t.Fatalf("secondary limit: %v (%s)", err, Explain(err))
	}
	before := len(fake.Requests())
	if _, err := compare(c); err == nil {
		t.Error("a request during Retry-After succeeded; it should not even be sent")
	}
	if len(fake.Requests()) != before {
		t.Error("a request was sent during Retry-After")
	}
}

func TestPrimaryRateLimitSaysUntilWhen(t *testing.T) {
	c, fake := newClient(t, "")
	fake.SetRemaining(0)
	_, err := compare(c)
	if msg := Explain(err); !strings.Contains(msg, "rate limit for ibbot is used up until") {
		t.Fatalf("primary limit explained as %q (%v)", msg, err)
	}
	fake.SetRemaining(10)
	if _, err := compare(c); err == nil {
		t.Error("request sent before X-RateLimit-Reset")
	}
}

// TestRateLimitRemainingIsExported: /metrics follows GitHub's count of
// requests left; a 304 costs nothing, and the gauge shows that too.
func TestRateLimitRemainingIsExported(t *testing.T) {
	fake := testenv.NewGitHub()
	defer fake.Close()
	reg := prometheus.NewRegistry()
	c, err := New(Options{BaseURL: fake.URL, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	remaining := func() float64 {
		v, _ := testutil.GatherAndCount(reg, "ibbot_github_rate_limit_remaining")
		if v != 1 {
			t.Fatalf("ibbot_github_rate_limit_remaining not registered")
		}
		mfs, _ := reg.Gather()
		return mfs[0].GetMetric()[0].GetGauge().GetValue()
	}
	compare(c)
	if got := remaining(); got != 4999 {
		t.Errorf("after one request the gauge says %v, want 4999", got)
	}
	compare(c) // answered 304
	if got := remaining(); got != 4999 {
		t.Errorf("after a 304 the gauge says %v, want still 4999", got)
	}
}
