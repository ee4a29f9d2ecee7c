package mail

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics tell the operator what the mail relay does: whether the IMAP
// connection is up, when it last looked for mail, and what became of
// each mail. A nil *Metrics counts nothing.
type Metrics struct {
	Mails     *prometheus.CounterVec
	Connected prometheus.Gauge
	LastCheck prometheus.Gauge
	// Stages times a mail's way through the relay, per stage: from the
	// server's word of new mail (EXISTS during IDLE) to the mail listed
	// and to its body read, then parsing, then queueing its messages. The
	// queue's own latency to the room is ibbot_send_latency_seconds.
	Stages *prometheus.HistogramVec
}

// Stages of a mail, the values of the stage label.
const (
	stageListed  = "heard_to_listed"
	stageFetched = "heard_to_fetched"
	stageParsed  = "parse"
	stageQueued  = "queue"
)

// Outcomes of a mail, the values of the outcome label.
const (
	outcomeThread     = "thread"     // posted as a new thread
	outcomeOwn        = "own"        // the list's echo of a mail ibbot sent
	outcomeReply      = "reply"      // posted in (or counted on) its thread
	outcomeDuplicate  = "duplicate"  // Message-ID already relayed
	outcomeOtherList  = "other_list" // List-Id not configured
	outcomeNotAPost   = "not_a_post" // list-manager notice, bounce, digest
	outcomeSpam       = "spam"       // mail.spam_header said so
	outcomeUnreadable = "unreadable" // could not be parsed
)

// NewMetrics registers the relay's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Mails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ibbot_mail_messages_total", Help: "List mails read, by outcome.",
		}, []string{"outcome"}),
		Connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ibbot_mail_connected", Help: "1 while the IMAP connection is up and the mailbox selected.",
		}),
		LastCheck: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ibbot_mail_last_check_timestamp_seconds", Help: "When the mailbox was last read to the end.",
		}),
		Stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ibbot_mail_stage_seconds", Help: "Time a mail spends per stage: heard_to_listed and heard_to_fetched (from the server's EXISTS), parse, queue.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"stage"}),
	}
	reg.MustRegister(m.Mails, m.Connected, m.LastCheck, m.Stages)
	return m
}

// stage records how long a stage took; since the server's word for the
// heard_* stages (nothing when the mail was found without one).
func (m *Metrics) stage(name string, since time.Time) {
	if m != nil && !since.IsZero() {
		m.Stages.WithLabelValues(name).Observe(time.Since(since).Seconds())
	}
}

func (m *Metrics) mail(outcome string) {
	if m != nil {
		m.Mails.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) connected(up bool) {
	if m == nil {
		return
	}
	if up {
		m.Connected.Set(1)
	} else {
		m.Connected.Set(0)
	}
}

func (m *Metrics) checked() {
	if m != nil {
		m.LastCheck.SetToCurrentTime()
	}
}
