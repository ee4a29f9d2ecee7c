package github

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/intake"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/testenv"
)

func Sign(secret, body []byte) string { return testenv.SignWebhook(secret, body) }

func post(h http.Handler, event, id, sig string, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/github/webhook", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", id)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newWebhook(t *testing.T, secret string) (*Webhook, *relayEnv) {
	e := newRelayEnv(t, sub(nil))
	return &Webhook{Secret: []byte(secret), Store: e.store, Wake: e.relay.Poke, Now: time.Now, Log: zerolog.Nop(),
		Intake: intake.New(intake.DefaultLimits(DefaultMaxBody), nil, time.Now)}, e
}

// TestDocumentedSignatureVector is GitHub's own example: secret "It's a
// Secret to Everybody", body "Hello, World!".
func TestDocumentedSignatureVector(t *testing.T) {
	const want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := Sign([]byte("It's a Secret to Everybody"), []byte("Hello, World!")); got != want {
		t.Fatalf("Sign = %s, want GitHub's %s", got, want)
	}
	h, _ := newWebhook(t, "It's a Secret to Everybody")
	if rec := post(h, "ping", "vector", want, []byte("Hello, World!")); rec.Code != http.StatusOK {
		t.Errorf("the documented vector was refused: %d %s", rec.Code, rec.Body)
	}
}

func TestWebhookRefusesAndAccepts(t *testing.T) {
	h, e := newWebhook(t, "s3cret")
	body := fixtures.Read("github/webhooks/issues.opened.payload.json")
	good := Sign([]byte("s3cret"), body)
	cases := []struct {
		name, sig, id string
		body          []byte
		want          int
	}{
		{"unsigned", "", "a", body, http.StatusUnauthorized},
		{"wrong secret", Sign([]byte("guess"), body), "b", body, http.StatusUnauthorized},
		{"tampered body", good, "c", append(bytes.Clone(body), ' '), http.StatusUnauthorized},
		{"no delivery id", good, "", body, http.StatusBadRequest},
		{"signed", good, "d", body, http.StatusAccepted},
		{"redelivery", good, "d", body, http.StatusOK},
	}
	for _, c := range cases {
		if rec := post(h, "issues", c.id, c.sig, c.body); rec.Code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.want)
		}
	}
	pending, _ := e.store.PendingDeliveries(context.Background(), 10)
	if len(pending) != 1 || pending[0].ID != "d" {
		t.Errorf("recorded deliveries %+v, want only the signed one, once", pending)
	}
}

func TestWebhookCapsPayloads(t *testing.T) {
	h, _ := newWebhook(t, "s")
	big := bytes.Repeat([]byte("x"), DefaultMaxBody+1)
	if rec := post(h, "issues", "big", Sign([]byte("s"), big), big); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized delivery: %d, want 413", rec.Code)
	}
}

// TestEveryFixtureGolden renders what each real delivery would post.
func TestEveryFixtureGolden(t *testing.T) {
	files, _ := fs.Glob(fixtures.FS, "github/webhooks/*.json")
	if len(files) < 20 {
		t.Fatalf("only %d webhook fixtures", len(files))
	}
	for _, f := range files {
		name := path.Base(f)
		event, _, _ := strings.Cut(name, ".")
		c, ok, err := FromWebhook(event, fixtures.Read(f))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out := "not announced\n"
		if ok {
			var rep string
			switch {
			case c.Review != nil && c.Review.State == "commented":
				rep = "no line (a review of comments only; counted by the review queue)"
			case c.Review != nil:
				r := RenderReview(c)
				rep = "thread line (" + c.Review.State + "):\n" + r.Plain + "\n\nhtml:\n" + r.HTML
			case c.CI != nil:
				failing := c
				run := *c.CI
				run.Conclusion = "failure"
				failing.CI = &run
				f, x := RenderCIFailure(failing), RenderCIFixed(c)
				rep = "when it starts failing: " + f.Plain + "\n\nhtml:\n" + f.HTML + "\n\nwhen it passes again: " + x.Plain + "\n\nhtml:\n" + x.HTML
			case c.Item.Kind == KindDiscussion:
				r := RenderDiscussion(c.Item)
				rep = r.Plain + "\n\nhtml:\n" + r.HTML
				if c.Answer != nil {
					a := RenderAnswer(c)
					rep += "\n\nthread line (answered):\n" + a.Plain + "\n\nhtml:\n" + a.HTML
				}
			case c.Comment != nil:
				r := RenderComment(c)
				rep = r.Plain + "\n\nhtml:\n" + r.HTML
			case c.Item.Kind == KindRelease:
				r := RenderRelease(c.Item)
				rep = r.Plain + "\n\nhtml:\n" + r.HTML
			default:
				r, l := RenderItem(c.Item), RenderLine(c)
				rep = r.Plain + "\n\nhtml:\n" + r.HTML + "\n\nthread line (" + c.Action + "):\n" + l.Plain
			}
			out = "plain:\n" + rep + "\n"
		}
		golden.Check(t, "webhook-"+strings.TrimSuffix(name, ".json")+".golden", out)
	}
}

func FuzzFromWebhook(f *testing.F) {
	files, _ := fs.Glob(fixtures.FS, "github/webhooks/*.json")
	for _, file := range files {
		event, _, _ := strings.Cut(path.Base(file), ".")
		f.Add(event, fixtures.Read(file))
	}
	f.Fuzz(func(t *testing.T, event string, body []byte) {
		c, ok, err := FromWebhook(event, body)
		if err != nil || !ok {
			return
		}
		if c.Item.Repo == "" {
			t.Fatal("change without a repository")
		}
		replies := []bot.Reply{RenderItem(c.Item), RenderLine(c)}
		if c.Comment != nil {
			replies = append(replies, RenderComment(c))
		}
		// Whatever a title or comment says, what is posted pings no one and
		// carries no markup of its author's.
		for _, r := range replies {
			if strings.Contains(strings.ToLower(r.Plain+r.HTML), "@room") {
				t.Fatalf("rendered text can ping the room: %+v", r)
			}
			if html := strings.ToLower(r.HTML); strings.Contains(html, "<script") || strings.Contains(html, "<img") {
				t.Fatalf("an author's markup reached the HTML: %q", r.HTML)
			}
		}
	})
}

func FuzzParseRefs(f *testing.F) {
	for _, s := range []string{"see osbuild/osbuild#12 and #3", "#0", "(a/b#999999999)", "x/y#1,#2;#3", "##1 a//b#2",
		"https://github.com/a/b/pull/9/files", "http://github.com/../x/issues/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, r := range ParseRefs(text, "d/r") {
			if r.Number <= 0 || strings.Count(r.Repo, "/") != 1 {
				t.Fatalf("bad ref %+v from %q", r, text)
			}
		}
	})
}

// countingBody is a request body that counts what the server reads of it
// and never ends on its own.
type countingBody struct {
	mu    sync.Mutex
	read  int64
	stop  chan struct{}
	pace  time.Duration // between reads; 0: a millisecond
	chunk int           // bytes a read; 0: as many as asked
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.chunk > 0 {
		p = p[:min(len(p), b.chunk)]
	}
	b.mu.Lock()
	if b.read >= 20<<20 {
		b.mu.Unlock()
		return 0, io.EOF
	}
	b.read += int64(len(p))
	b.mu.Unlock()
	select {
	case <-b.stop:
		return 0, io.ErrUnexpectedEOF
	case <-time.After(max(b.pace, time.Millisecond)): // a slow client
	}
	return len(p), nil
}

func (b *countingBody) n() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.read
}

// serveWebhook serves h on loopback with ibbot's server settings, until
// the test ends, and returns its address.
func serveWebhook(t *testing.T, h *Webhook) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/github/webhook", h)
	srv := ops.NewPlain(mux, zerolog.Nop())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go srv.ServeListener(ctx, ln)
	return "http://" + ln.Addr().String() + "/github/webhook"
}

// TestUnsignedBigPostIsRefusedUnread: an unsigned 20 MB POST gets 401 at
// once, before its body is read, on a real server with ibbot's settings.
func TestUnsignedBigPostIsRefusedUnread(t *testing.T) {
	h, _ := newWebhook(t, "s3cret")
	url := serveWebhook(t, h)

	body := &countingBody{stop: make(chan struct{})}
	defer close(body.stop)
	req, _ := http.NewRequest(http.MethodPost, url, body)
	req.ContentLength = 20 << 20
	req.Header.Set("X-GitHub-Event", "issues")
	req.Header.Set("X-GitHub-Delivery", "big")
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
	// The client sends about 32 kB a millisecond-paced read; a server
	// that read the body would have taken 20 MB (over 600 reads).
	if sent := body.n(); sent > 1<<20 {
		t.Errorf("the server read %d bytes of an unsigned body", sent)
	}
	t.Logf("answered in %s after %d bytes were sent", time.Since(start), body.n())
}

// TestWebhookSlotsBoundConcurrency: with every slot taken, a signed
// delivery waits, then gets 503; unsigned ones are refused without a slot.
func TestWebhookSlotsBoundConcurrency(t *testing.T) {
	h, _ := newWebhook(t, "s3cret")
	h.Slots = make(chan struct{}, 1)
	h.Slots <- struct{}{} // taken
	body := fixtures.Read("github/webhooks/issues.opened.payload.json")
	if rec := post(h, "issues", "u", "", body); rec.Code != http.StatusUnauthorized {
		t.Errorf("unsigned with no slot free: %d, want 401", rec.Code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/github/webhook", bytes.NewReader(body))
	req.Header.Set("X-GitHub-Event", "issues")
	req.Header.Set("X-GitHub-Delivery", "s")
	req.Header.Set("X-Hub-Signature-256", Sign([]byte("s3cret"), body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("signed with no slot free: %d, want 503", rec.Code)
	}
	<-h.Slots
	if rec := post(h, "issues", "s2", Sign([]byte("s3cret"), body), body); rec.Code != http.StatusAccepted {
		t.Errorf("with a free slot: %d %s", rec.Code, rec.Body)
	}
}

// TestReviewVerdictsGolden renders the real review delivery with each
// verdict the relay announces (the recorded one is a comment-only review).
func TestReviewVerdictsGolden(t *testing.T) {
	for _, state := range []string{"approved", "changes_requested"} {
		var m map[string]any
		json.Unmarshal(fixtures.Read("github/webhooks/pull_request_review.submitted.payload.json"), &m)
		m["review"].(map[string]any)["state"] = state
		body, _ := json.Marshal(m)
		c, ok, err := FromWebhook("pull_request_review", body)
		if err != nil || !ok || c.Review == nil {
			t.Fatalf("%s review: ok %v, %v", state, ok, err)
		}
		r := RenderReview(c)
		golden.Check(t, "review-"+state+".golden", "plain:\n"+r.Plain+"\n\nhtml:\n"+r.HTML+"\n")
	}
}

// TestFakeSignedSlowBodiesHoldNoSlot: with one slot, slow bodies under a
// well-formed but wrong signature (from another client) neither take the
// slot nor stay long, and a genuine delivery is accepted meanwhile.
func TestFakeSignedSlowBodiesHoldNoSlot(t *testing.T) {
	h, e := newWebhook(t, "s3cret")
	h.Slots = make(chan struct{}, 1)
	url := serveWebhook(t, h)

	attacker := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	slow := &http.Client{Transport: &http.Transport{DialContext: attacker.DialContext}}
	fake := "sha256=" + strings.Repeat("ab", 32)
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := &countingBody{stop: make(chan struct{}), pace: 200 * time.Millisecond, chunk: 1}
			req, _ := http.NewRequest(http.MethodPost, url, body)
			req.ContentLength = 1 << 20
			req.Header.Set("X-GitHub-Event", "issues")
			req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("fake-%d", i))
			req.Header.Set("X-Hub-Signature-256", fake)
			resp, err := slow.Do(req)
			close(body.stop)
			if err == nil {
				resp.Body.Close()
				codes <- resp.StatusCode
			}
		}()
	}
	body := fixtures.Read("github/webhooks/issues.opened.payload.json")
	for i := range 3 {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "issues")
		req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("genuine-%d", i))
		req.Header.Set("X-Hub-Signature-256", Sign([]byte("s3cret"), body))
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Errorf("genuine delivery %d during the attack: %d, want 202", i, resp.StatusCode)
		}
		t.Logf("genuine delivery %d answered in %s", i, time.Since(start))
	}
	wg.Wait()
	close(codes)
	refused := map[int]int{}
	for c := range codes {
		refused[c]++
	}
	if refused[http.StatusRequestTimeout]+refused[http.StatusTooManyRequests] != 20 {
		t.Errorf("fake-signed slow bodies got %v, want each 408 (too slow) or 429 (too many from one client)", refused)
	}
	if pending, _ := e.store.PendingDeliveries(context.Background(), 10); len(pending) != 3 {
		t.Errorf("%d deliveries recorded, want the 3 genuine ones", len(pending))
	}
}

// TestRefusalsDoNotFloodTheLog: a hundred forged deliveries are all
// counted as refused, but the log gets only a burst of them.
func TestRefusalsDoNotFloodTheLog(t *testing.T) {
	h, _ := newWebhook(t, "s3cret")
	var logs bytes.Buffer
	h.Log = zerolog.New(&logs)
	body := fixtures.Read("github/webhooks/issues.opened.payload.json")
	for i := range 100 {
		if rec := post(h, "issues", fmt.Sprintf("forged-%d", i), Sign([]byte("guess"), body), body); rec.Code != http.StatusUnauthorized {
			t.Fatalf("forged delivery: %d", rec.Code)
		}
	}
	if n := strings.Count(logs.String(), "\n"); n == 0 || n > 20 {
		t.Errorf("100 forged deliveries wrote %d log lines, want a burst of at most 20", n)
	}
}
