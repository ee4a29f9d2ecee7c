package alerts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// DefaultMaxBody bounds a notification: a group of 200 alerts with their
// labels and annotations is a few hundred KiB.
const DefaultMaxBody = 1 << 20

// Recorder records a notification durably before it is answered; it
// reports whether the notification is new (a repeat_interval resend of an
// unchanged group is not).
type Recorder interface {
	RecordAlert(ctx context.Context, id string, body []byte, at time.Time) (bool, error)
}

// Webhook receives Alertmanager's notifications: a request without the
// bearer token is refused before its body is read; a body is read up to
// MaxBody, parsed, recorded, and answered; the relay does the rest.
type Webhook struct {
	Token   string // what Alertmanager's http_config.authorization sends
	Store   Recorder
	MaxBody int64
	Wake    func() // tells the relay a notification waits; may be nil
	Now     func() time.Time
	Log     zerolog.Logger
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ibbot"`)
		http.Error(w, "a bearer token is required", http.StatusUnauthorized)
		return
	}
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		http.Error(w, "the notification is too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "the notification could not be read", http.StatusBadRequest)
		return
	}
	if _, err := Parse(body); err != nil {
		h.Log.Warn().Err(err).Msg("Refusing an Alertmanager notification that does not read")
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	added, err := h.Store.RecordAlert(r.Context(), "am:"+hex.EncodeToString(sum[:16]), body, h.Now())
	if err != nil {
		h.Log.Error().Err(err).Msg("Recording an Alertmanager notification failed; Alertmanager will send it again")
		http.Error(w, "the notification could not be recorded", http.StatusServiceUnavailable)
		return
	}
	if added && h.Wake != nil {
		h.Wake()
	}
	w.WriteHeader(http.StatusOK)
}

// authorized checks the bearer token in constant time.
func (h *Webhook) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && h.Token != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(h.Token)) == 1
}
