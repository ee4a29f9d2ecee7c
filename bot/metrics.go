package bot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the bot's Prometheus series.
type Metrics struct {
	Commands       *prometheus.CounterVec
	SyncLag        prometheus.Gauge
	QueueDepth     prometheus.Gauge
	SendErrors     *prometheus.CounterVec
	RateLimitWaits prometheus.Counter
	RateLimitWait  prometheus.Counter
	Sent           prometheus.Counter
	// RoomUnreachable is 1 for each room whose messages wait because
	// posting there fails.
	RoomUnreachable *prometheus.GaugeVec
	// RoomBarred is 1 for each room the bot was kicked or banned from, or
	// may not send in (its power level), by why (kicked, banned,
	// power_level).
	RoomBarred *prometheus.GaugeVec
	// SendLatency is the time from queueing a message to the homeserver
	// taking it (rate-limit waits and retries included).
	SendLatency prometheus.Histogram
	// DecryptionFailures counts encrypted events the bot could not read,
	// by reason (no_session: the room key never came; error: anything else).
	DecryptionFailures *prometheus.CounterVec
}

// NewMetrics creates the series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ibbot_commands_total", Help: "Commands handled, by command and outcome.",
		}, []string{"command", "outcome"}),
		SyncLag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ibbot_sync_lag_seconds", Help: "Age of the newest event when the bot processed it.",
		}),
		QueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ibbot_outgoing_queue_depth", Help: "Messages waiting to be sent.",
		}),
		SendErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ibbot_send_errors_total", Help: "Failed send attempts, by kind (rate_limited, transient, room, permanent).",
		}, []string{"kind"}),
		RateLimitWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ibbot_rate_limit_waits_total", Help: "Times the homeserver asked the bot to slow down.",
		}),
		RateLimitWait: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ibbot_rate_limit_wait_seconds_total", Help: "Time spent waiting because of rate limits.",
		}),
		Sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ibbot_messages_sent_total", Help: "Messages delivered to the homeserver.",
		}),
		SendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ibbot_send_latency_seconds", Help: "Time from queueing a message to the homeserver taking it.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}),
		DecryptionFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ibbot_decryption_failures_total", Help: "Encrypted events the bot could not decrypt, by reason (no_session, error).",
		}, []string{"reason"}),
		RoomUnreachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ibbot_room_unreachable", Help: "1 for a room the bot cannot post to now; its messages wait in the queue.",
		}, []string{"room"}),
		RoomBarred: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ibbot_room_barred", Help: "1 for a room the bot was kicked or banned from, or may not send in; its messages wait.",
		}, []string{"room", "why"}),
	}
	for _, kind := range []string{"rate_limited", "transient", "room", "permanent"} {
		m.SendErrors.WithLabelValues(kind) // show zeros before the first error
	}
	for _, reason := range []string{"no_session", "error"} {
		m.DecryptionFailures.WithLabelValues(reason)
	}
	reg.MustRegister(m.Commands, m.SyncLag, m.QueueDepth, m.SendErrors, m.RateLimitWaits, m.RateLimitWait, m.Sent,
		m.RoomUnreachable, m.RoomBarred, m.SendLatency, m.DecryptionFailures)
	return m
}
