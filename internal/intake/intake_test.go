package intake

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// server serves g on loopback: it answers 200 with the body's SHA-256 as
// the guard computed it, or the refusal's status.
func server(t *testing.T, g *Guard) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.New()
		body, err := g.Read(w, r, sum)
		if err != nil {
			ref := err.(*Refusal)
			http.Error(w, ref.Text, ref.Status)
			return
		}
		defer body.Release()
		fmt.Fprintf(w, "%x %d", sum.Sum(nil), len(body.Bytes))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func limits() Limits {
	return Limits{MaxBody: 64 << 10, Budget: 256 << 10, PerClient: 2, Grace: 300 * time.Millisecond, MinRate: 8 << 10, Timeout: 2 * time.Second, Wait: 200 * time.Millisecond}
}

// from is a client whose connections come from the loopback address src
// (Linux routes all of 127/8 to lo), so tests can be several clients.
func from(src string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}
}

func status(t *testing.T, c *http.Client, url string, body io.Reader, length int64) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.ContentLength = length
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// slowBody sends n bytes, one every gap, until stop is closed.
type slowBody struct {
	n, sent int
	gap     time.Duration
	stop    chan struct{}
}

func (s *slowBody) Read(p []byte) (int, error) {
	if s.sent >= s.n {
		return 0, io.EOF
	}
	select {
	case <-time.After(s.gap):
	case <-s.stop:
		return 0, io.ErrUnexpectedEOF
	}
	s.sent++
	p[0] = 'x'
	return 1, nil
}

func TestBodyIsReadAndSummed(t *testing.T) {
	url := server(t, New(limits(), nil, nil))
	body := bytes.Repeat([]byte("ibbot "), 5000)
	want := fmt.Sprintf("%x %d", sha256.Sum256(body), len(body))
	for _, length := range []int64{int64(len(body)), -1} { // Content-Length given, and chunked
		code, got := status(t, from("127.0.0.1"), url, io.MultiReader(bytes.NewReader(body)), length)
		if code != 200 || got != want {
			t.Errorf("length %d: %d %q, want 200 %q", length, code, got, want)
		}
	}
}

func TestOversizedBodiesAreRefused(t *testing.T) {
	g := New(limits(), nil, nil)
	url := server(t, g)
	big := bytes.Repeat([]byte("x"), 64<<10+1)
	for _, length := range []int64{int64(len(big)), -1} {
		// The server answers and closes before the client has sent it
		// all, so the client may see its write reset instead of the 413.
		code, text := status(t, from("127.0.0.1"), url, io.MultiReader(bytes.NewReader(big)), length)
		if code != http.StatusRequestEntityTooLarge && !(code == 0 && (strings.Contains(text, "reset") || strings.Contains(text, "broken pipe"))) {
			t.Errorf("length %d: %d %s, want 413", length, code, text)
		}
	}
	if !g.budget.TryAcquire(g.limits.Budget) {
		t.Error("refused bodies kept part of the budget")
	}
}

// TestSlowBodyIsCutOff: one byte every 100 ms is far under the minimum
// rate; the body is refused soon after the grace, not at the timeout.
func TestSlowBodyIsCutOff(t *testing.T) {
	url := server(t, New(limits(), nil, nil))
	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	code, _ := status(t, from("127.0.0.1"), url, &slowBody{n: 1000, gap: 100 * time.Millisecond, stop: stop}, 1000)
	if code != http.StatusRequestTimeout {
		t.Errorf("slow body: %d, want 408", code)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("the slow body was held %s, past grace plus what its bytes allow", took)
	}
}

// TestOneClientCannotTakeEveryPlace: a client with its places taken by
// slow bodies is refused at once; another client is served meanwhile.
func TestOneClientCannotTakeEveryPlace(t *testing.T) {
	l := limits()
	l.Grace, l.Timeout = 5*time.Second, 5*time.Second // the slow ones stay
	url := server(t, New(l, nil, nil))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range l.PerClient {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status(t, from("127.0.0.2"), url, &slowBody{n: 100, gap: 50 * time.Millisecond, stop: stop}, 100)
		}()
	}
	defer wg.Wait()
	defer close(stop)
	waitFor(t, func() bool {
		code, _ := status(t, from("127.0.0.2"), url, strings.NewReader("x"), 1)
		return code == http.StatusTooManyRequests
	})
	if code, _ := status(t, from("127.0.0.3"), url, strings.NewReader("hello"), 5); code != 200 {
		t.Errorf("another client: %d, want 200", code)
	}
}

// TestBudgetIsShared: once unverified bodies hold the budget, the next
// waits a little, then is refused (503); released, it is taken again.
func TestBudgetIsShared(t *testing.T) {
	l := limits()
	l.Budget, l.PerClient = 100<<10, 10
	l.Grace, l.Timeout = 5*time.Second, 5*time.Second
	g := New(l, nil, nil)
	url := server(t, g)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		code, _ := status(t, from("127.0.0.4"), url, &slowBody{n: 60 << 10, gap: 20 * time.Millisecond, stop: stop}, 60<<10)
		done <- code
	}()
	waitFor(t, func() bool {
		code, _ := status(t, from("127.0.0.5"), url, bytes.NewReader(make([]byte, 50<<10)), 50<<10)
		return code == http.StatusServiceUnavailable
	})
	close(stop)
	<-done
	if code, _ := status(t, from("127.0.0.5"), url, bytes.NewReader(make([]byte, 50<<10)), 50<<10); code != 200 {
		t.Errorf("after the slow body ended: %d, want 200", code)
	}
}

func TestClientBehindTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.128.0.0/14"), netip.MustParsePrefix("::1/128")}
	g := New(limits(), trusted, nil)
	cases := []struct{ peer, xff, want string }{
		{"203.0.113.9:4000", "", "203.0.113.9"},
		{"203.0.113.9:4000", "198.51.100.1", "203.0.113.9"},                 // an untrusted peer's header is ignored
		{"10.128.0.5:4000", "198.51.100.1", "198.51.100.1"},                 // the router names the client
		{"10.128.0.5:4000", "1.2.3.4, 198.51.100.1", "198.51.100.1"},        // what the client prepended is ignored
		{"10.128.0.5:4000", "198.51.100.1, 10.129.0.1", "198.51.100.1"},     // two trusted hops
		{"10.128.0.5:4000", "garbage, 10.129.0.1", "10.128.0.5"},            // malformed: the proxy is the client
		{"[::1]:4000", "2001:db8::1", "2001:db8::1"},                        // IPv6
		{"[::ffff:10.128.0.5]:4000", "::ffff:198.51.100.1", "198.51.100.1"}, // mapped addresses
		{"10.128.0.5:4000", "10.129.0.1", "10.128.0.5"},                     // every hop trusted
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := g.Client(r); got != c.want {
			t.Errorf("peer %s, X-Forwarded-For %q: client %s, want %s", c.peer, c.xff, got, c.want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}

// TestAClockSetElsewhere: the guard's clock is injected (a test, or a
// replica whose clock is off) while the socket's deadline is wall-clock
// time: a body is still read, not refused as too slow.
func TestAClockSetElsewhere(t *testing.T) {
	past := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	started := time.Now()
	url := server(t, New(limits(), nil, func() time.Time { return past.Add(time.Since(started)) }))
	body := bytes.Repeat([]byte("ibbot "), 5000)
	if code, _ := status(t, from("127.0.0.1"), url, bytes.NewReader(body), int64(len(body))); code != 200 {
		t.Errorf("with the clock in 2020: %d, want 200", code)
	}
}
