package alerts

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

type memRecorder struct {
	mu   sync.Mutex
	seen map[string][]byte
}

func (m *memRecorder) RecordAlert(_ context.Context, id string, body []byte, _ time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string][]byte{}
	}
	if _, ok := m.seen[id]; ok {
		return false, nil
	}
	m.seen[id] = body
	return true, nil
}

// TestTheWebhookTakesOnlyWhatAlertmanagerSends: without the token, with a
// wrong one, a body too large or not a notification: refused, nothing
// recorded; a notification is recorded once however often it comes.
func TestTheWebhookTakesOnlyWhatAlertmanagerSends(t *testing.T) {
	rec := &memRecorder{}
	woken := 0
	h := &Webhook{Token: "s3cret", Store: rec, MaxBody: 4096, Wake: func() { woken++ }, Now: time.Now, Log: zerolog.Nop()}
	post := func(auth, body string) int {
		r := httptest.NewRequest(http.MethodPost, "/alertmanager", strings.NewReader(body))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		name, auth, body string
		want             int
	}{
		{"no token", "", firing, http.StatusUnauthorized},
		{"wrong token", "Bearer nope", firing, http.StatusUnauthorized},
		{"basic auth", "Basic czNjcmV0", firing, http.StatusUnauthorized},
		{"too large", "Bearer s3cret", firing + strings.Repeat(" ", 5000), http.StatusRequestEntityTooLarge},
		{"not a notification", "Bearer s3cret", `{"version":"4"}`, http.StatusBadRequest},
		{"a notification", "Bearer s3cret", firing, http.StatusOK},
		{"the same again (repeat_interval)", "Bearer s3cret", firing, http.StatusOK},
	} {
		if got := post(c.auth, c.body); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if len(rec.seen) != 1 || woken != 1 {
		t.Errorf("%d notifications recorded, the relay woken %d times; want 1 and 1", len(rec.seen), woken)
	}
}
