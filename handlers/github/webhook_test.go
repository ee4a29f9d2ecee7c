package github

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/golden"
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
	return &Webhook{Secret: []byte(secret), Store: e.store, Relay: e.relay, Now: time.Now, Log: zerolog.Nop()}, e
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
	big := bytes.Repeat([]byte("x"), MaxPayload+1)
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
	for _, s := range []string{"see osbuild/osbuild#12 and #3", "#0", "(a/b#999999999)", "x/y#1,#2;#3", "##1 a//b#2"} {
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
