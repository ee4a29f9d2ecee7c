package github

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/store"
)

// MaxPayload is GitHub's own cap on a delivery.
const MaxPayload = 25 << 20

// Webhook receives GitHub's deliveries: it checks the signature over the
// raw body in constant time, records the delivery durably, answers at once
// and leaves the work to the relay. A redelivery (same X-GitHub-Delivery)
// is answered and ignored.
type Webhook struct {
	Secret  []byte
	Store   Recorder
	Wake    func() // tells the relay a delivery waits; may be nil
	Now     func() time.Time
	Log     zerolog.Logger
	Metrics *prometheus.CounterVec // by outcome; may be nil
	// Slots bounds the deliveries read and recorded at once (a buffered
	// channel of that capacity); nil: no bound. A request that finds no
	// slot within busyWait is answered 503.
	Slots chan struct{}
}

// busyWait is how long a delivery waits for a free slot.
const busyWait = 5 * time.Second

// signaturePattern is how GitHub writes X-Hub-Signature-256.
var signaturePattern = regexp.MustCompile(`^sha256=[0-9a-fA-F]{64}$`)

// NewWebhookMetrics registers the deliveries counter.
func NewWebhookMetrics(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ibbot_github_deliveries_total", Help: "GitHub webhook deliveries, by outcome.",
	}, []string{"outcome"})
	reg.MustRegister(c)
	return c
}

func (h *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.answer(w, http.StatusMethodNotAllowed, "method_not_allowed", "POST only\n")
		return
	}
	if !h.plausible(w, r) {
		return
	}
	if !h.acquire(r) {
		h.answer(w, http.StatusServiceUnavailable, "busy", "too many deliveries at once; redeliver later\n")
		return
	}
	defer h.release()
	body := http.MaxBytesReader(w, r.Body, MaxPayload)
	payload, err := gh.ValidatePayloadFromBody(r.Header.Get("Content-Type"), body, r.Header.Get(gh.SHA256SignatureHeader), h.Secret)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		h.answer(w, http.StatusRequestEntityTooLarge, "too_large", "payload over 25 MB\n")
		return
	case err != nil:
		h.refuse(w, r, "wrong")
		return
	}
	event, id := gh.WebHookType(r), gh.DeliveryID(r)
	if event == "" || id == "" {
		h.answer(w, http.StatusBadRequest, "malformed", "X-GitHub-Event and X-GitHub-Delivery are required\n")
		return
	}
	if event == "ping" {
		h.answer(w, http.StatusOK, "ping", "pong\n")
		return
	}
	added, err := h.Store.SaveDelivery(r.Context(), store.Delivery{ID: id, Event: event, Payload: payload}, h.Now())
	if err != nil {
		h.Log.Error().Err(err).Str("delivery", id).Msg("Could not record a delivery; GitHub will show it failed and it can be redelivered")
		h.answer(w, http.StatusServiceUnavailable, "store_failed", "could not record the delivery\n")
		return
	}
	if !added {
		h.answer(w, http.StatusOK, "duplicate", "already received\n")
		return
	}
	if h.Wake != nil {
		h.Wake()
	}
	h.answer(w, http.StatusAccepted, "accepted", "accepted\n")
}

// plausible refuses what cannot be a delivery before reading a byte of
// its body, so unauthenticated clients can neither hold memory nor slots.
func (h *Webhook) plausible(w http.ResponseWriter, r *http.Request) bool {
	if !signaturePattern.MatchString(r.Header.Get(gh.SHA256SignatureHeader)) {
		h.refuse(w, r, "missing or malformed")
		return false
	}
	if r.ContentLength > MaxPayload {
		h.answer(w, http.StatusRequestEntityTooLarge, "too_large", "payload over 25 MB\n")
		return false
	}
	return true
}

func (h *Webhook) refuse(w http.ResponseWriter, r *http.Request, why string) {
	h.Log.Warn().Str("remote", r.RemoteAddr).Str("delivery", r.Header.Get(gh.DeliveryIDHeader)).Str("signature", why).
		Msg("Refused a webhook delivery whose signature is missing or wrong")
	h.answer(w, http.StatusUnauthorized, "bad_signature", "signature missing or wrong\n")
}

func (h *Webhook) acquire(r *http.Request) bool {
	if h.Slots == nil {
		return true
	}
	t := time.NewTimer(busyWait)
	defer t.Stop()
	select {
	case h.Slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
}

func (h *Webhook) release() {
	if h.Slots != nil {
		<-h.Slots
	}
}

func (h *Webhook) answer(w http.ResponseWriter, status int, outcome, text string) {
	if h.Metrics != nil {
		h.Metrics.WithLabelValues(outcome).Inc()
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(text))
}
