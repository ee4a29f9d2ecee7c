package github

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/intake"
	"github.com/osbuild/ibbot/internal/store"
)

// DefaultMaxBody is the default cap on a delivery: GitHub's own is 25 MB,
// but the events ibbot follows (issues, pull requests, releases, CI,
// discussions, reviews) carry tens of KiB, and at most a 64 KiB text.
const DefaultMaxBody = 1 << 20

// Webhook receives GitHub's deliveries: it reads the body under the
// intake's limits while computing its HMAC, checks the signature in
// constant time, records the delivery durably, answers at once and leaves
// the work to the relay. A redelivery (same X-GitHub-Delivery) is answered
// and ignored. A client that does not know the secret holds no slot and
// at most the intake's share of memory, for a few seconds.
type Webhook struct {
	Secret  []byte
	Store   Recorder
	Wake    func() // tells the relay a delivery waits; may be nil
	Now     func() time.Time
	Log     zerolog.Logger
	Metrics *prometheus.CounterVec // by outcome; may be nil
	// Intake reads bodies before they are verified (required).
	Intake *intake.Guard
	// refusals logs refused requests, at most a burst a minute: each is
	// counted in the metrics, but an attacker must not fill the log.
	refusalsOnce sync.Once
	refusals     zerolog.Logger
	// Slots bounds the verified deliveries recorded at once (a buffered
	// channel of that capacity); nil: no bound. A delivery that finds no
	// slot within busyWait is answered 503.
	Slots chan struct{}
}

// busyWait is how long a verified delivery waits for a free slot.
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
	want, ok := h.plausible(w, r)
	if !ok {
		return
	}
	mac := hmac.New(sha256.New, h.Secret)
	body, err := h.Intake.Read(w, r, mac)
	var refused *intake.Refusal
	if errors.As(err, &refused) {
		h.refusalLog().Warn().Str("client", h.Intake.Client(r)).Str("delivery", gh.DeliveryID(r)).Str("outcome", refused.Outcome).
			Msg("Refused an unverified webhook body: " + refused.Text)
		h.answer(w, refused.Status, refused.Outcome, refused.Text+"\n")
		return
	}
	defer body.Release()
	if !hmac.Equal(mac.Sum(nil), want) {
		h.refuse(w, r, "wrong")
		return
	}
	payload, err := deliveryPayload(r.Header.Get("Content-Type"), body.Bytes)
	if err != nil {
		h.answer(w, http.StatusBadRequest, "malformed", err.Error()+"\n")
		return
	}
	h.record(w, r, payload)
}

// record stores a verified delivery, holding one of the slots.
func (h *Webhook) record(w http.ResponseWriter, r *http.Request, payload []byte) {
	event, id := gh.WebHookType(r), gh.DeliveryID(r)
	if event == "ping" {
		h.answer(w, http.StatusOK, "ping", "pong\n")
		return
	}
	if !h.acquire(r) {
		h.answer(w, http.StatusServiceUnavailable, "busy", "too many deliveries at once; redeliver later\n")
		return
	}
	defer h.release()
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
// its body, and returns the signature the body must have.
func (h *Webhook) plausible(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	sig := r.Header.Get(gh.SHA256SignatureHeader)
	if !signaturePattern.MatchString(sig) {
		h.refuse(w, r, "missing or malformed")
		return nil, false
	}
	if gh.WebHookType(r) == "" || gh.DeliveryID(r) == "" {
		h.answer(w, http.StatusBadRequest, "malformed", "X-GitHub-Event and X-GitHub-Delivery are required\n")
		return nil, false
	}
	want, _ := hex.DecodeString(sig[len("sha256="):]) // the pattern checked it is hex
	return want, true
}

// deliveryPayload is the JSON of a verified body: the body itself, or its
// payload field when the webhook is set to send a form.
func deliveryPayload(contentType string, body []byte) ([]byte, error) {
	media, _, err := mime.ParseMediaType(contentType)
	if err != nil || media == "application/json" {
		return body, nil
	}
	if media != "application/x-www-form-urlencoded" {
		return nil, errors.New("content type must be application/json or application/x-www-form-urlencoded")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		return nil, errors.New("the form has no payload field")
	}
	return []byte(form.Get("payload")), nil
}

// refusalLog is Log for refusals: 20 a minute, the rest only counted in
// ibbot_github_deliveries_total.
func (h *Webhook) refusalLog() *zerolog.Logger {
	h.refusalsOnce.Do(func() {
		h.refusals = h.Log.Sample(&zerolog.BurstSampler{Burst: 20, Period: time.Minute})
	})
	return &h.refusals
}

func (h *Webhook) refuse(w http.ResponseWriter, r *http.Request, why string) {
	h.refusalLog().Warn().Str("client", h.Intake.Client(r)).Str("delivery", r.Header.Get(gh.DeliveryIDHeader)).Str("signature", why).
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
