package mail

import "github.com/prometheus/client_golang/prometheus"

// Metrics tell the operator what the mail relay does: whether the IMAP
// connection is up, when it last looked for mail, and what became of
// each mail. A nil *Metrics counts nothing.
type Metrics struct {
	Mails     *prometheus.CounterVec
	Connected prometheus.Gauge
	LastCheck prometheus.Gauge
}

// Outcomes of a mail, the values of the outcome label.
const (
	outcomeThread     = "thread"     // posted as a new thread
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
	}
	reg.MustRegister(m.Mails, m.Connected, m.LastCheck)
	return m
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
