package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// faultProxy sits between the bot and Dendrite and misbehaves on sends the
// way real homeservers do: it answers some with 429 M_LIMIT_EXCEEDED, and
// for others it forwards the request and then loses the response (502), so
// the bot must retry a message the server already has.
type faultProxy struct {
	target *url.URL
	proxy  *httputil.ReverseProxy

	mu        sync.Mutex
	sends     int
	limited   int
	lostAfter int
}

func newFaultProxy(t *testing.T, target string) (*faultProxy, *httptest.Server) {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{target: u, proxy: httputil.NewSingleHostReverseProxy(u)}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/send/") {
		p.proxy.ServeHTTP(w, r)
		return
	}
	p.mu.Lock()
	p.sends++
	n := p.sends
	p.mu.Unlock()
	switch {
	case n%2 == 1: // every other send: slow down
		p.mu.Lock()
		p.limited++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":40}`)
	case n%3 == 0: // forwarded, but the answer is lost on the way back
		rec := httptest.NewRecorder()
		p.proxy.ServeHTTP(rec, r)
		p.mu.Lock()
		p.lostAfter++
		p.mu.Unlock()
		w.WriteHeader(http.StatusBadGateway)
		io.Copy(io.Discard, bytes.NewReader(rec.Body.Bytes()))
	default:
		p.proxy.ServeHTTP(w, r)
	}
}

// TestRateLimitedHomeserver shows every answer delivered exactly once
// through rate limits and lost responses.
func TestRateLimitedHomeserver(t *testing.T) {
	s := newStack(t)
	faults, proxy := newFaultProxy(t, s.hs.URL)
	startBot(t, s.config(proxy.URL))

	const commands = 12
	var sent []id.EventID
	for range commands {
		sent = append(sent, s.human.MustSay(t, s.room, "!ping"))
	}
	for _, evt := range sent {
		s.human.MustWait(t, wait, "answer to "+evt.String(), testenv.ReplyTo(evt))
	}
	s.settle(t)
	for i, evt := range sent {
		if n := s.human.Count(testenv.ReplyTo(evt)); n != 1 {
			t.Errorf("command %d answered %d times, want exactly 1", i, n)
		}
	}
	faults.mu.Lock()
	defer faults.mu.Unlock()
	if faults.limited == 0 || faults.lostAfter == 0 {
		t.Errorf("the proxy injected %d rate limits and %d lost responses; the test needs both", faults.limited, faults.lostAfter)
	}
}
