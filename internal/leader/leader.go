// Package leader decides which of several ibbot replicas sharing one
// PostgreSQL database does the bot's work. Exactly one leads: it holds a
// session-level advisory lock on a connection of its own (never a pooled
// one, which would carry the lock off to other work) and proves it still
// does with a heartbeat. The others stand by, trying the lock.
//
// Two things free the lock of a leader that cannot give it back: the
// server closes the session of a process that died (SIGKILL, a node gone:
// TCP keepalives), and of one that is frozen (SIGSTOP, a stalled VM)
// through idle_session_timeout, which the heartbeat keeps from firing while
// the leader lives. A frozen leader cannot know it was replaced, so each
// new leader bumps an epoch in the database, and every claim of outgoing
// work compares it with its own (store.Claim); the leader also trusts its
// leadership only for a window after its last good heartbeat (Term.Held),
// shorter than the time the server waits before it frees the lock.
package leader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// lockKey is the advisory lock that makes a replica the leader (the
// store's are 0x1bb07_0001 and 0x1bb07_0003: each key one purpose).
const lockKey = 0x1bb07_0002

// Options configure an Elector.
type Options struct {
	DSN string
	// Heartbeat is how often the leader proves it still holds the lock
	// (and a standby tries to take it).
	Heartbeat time.Duration
	// Timeout bounds how long a silent leader (frozen, cut off) keeps the
	// lead: the server frees the lock Timeout-Heartbeat after the last
	// heartbeat (idle_session_timeout), so at most Timeout after the
	// leader fell silent, and a standby takes it within a quarter
	// heartbeat. The leader itself trusts its lead for half a heartbeat
	// less than the server waits.
	Timeout time.Duration
	// Identity names this replica in logs and in the leadership table.
	Identity string
	// Fence is told the epoch of each term this replica leads, before the
	// term is handed out (store.DB.Fence).
	Fence   func(epoch int64)
	Metrics *Metrics
	Log     zerolog.Logger
}

// idle is how long the server waits for a silent session.
func (o Options) idle() time.Duration { return o.Timeout - o.Heartbeat }

// trust is how long after a good heartbeat the leader acts on it: less
// than idle, so it stops before the server can free the lock.
func (o Options) trust() time.Duration { return o.idle() - o.Heartbeat/2 }

// Elector campaigns for leadership.
type Elector struct {
	opts Options
	conn *pgx.Conn
	// reached is when the database last answered (unix nanoseconds).
	reached atomic.Int64
	// seen is the last leader a standby logged, so it logs each once.
	seen string
}

// New makes an elector; nothing connects until Campaign.
func New(opts Options) *Elector {
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	return &Elector{opts: opts}
}

// Reachable reports whether the database answered this replica within the
// timeout: a standby that can record webhooks for the leader.
func (e *Elector) Reachable() bool {
	return time.Since(time.Unix(0, e.reached.Load())) < e.opts.Timeout
}

// Campaign stands by until this replica leads, then returns its term. It
// returns ctx's error if ctx ends first.
func (e *Elector) Campaign(ctx context.Context) (*Term, error) {
	// A standby tries the lock four times a heartbeat (the try is cheap)
	// so it takes over soon after the lock is freed.
	retry := max(e.opts.Heartbeat/4, 10*time.Millisecond)
	for wait := retry; ; {
		term, err := e.try(ctx)
		switch {
		case term != nil:
			return term, nil
		case ctx.Err() != nil:
			e.close()
			return nil, ctx.Err()
		case err != nil:
			e.close()
			e.opts.Log.Warn().Err(err).Dur("retry_in", wait).Msg("Cannot reach PostgreSQL to campaign for leadership")
			wait = min(2*wait, e.opts.Timeout)
		default:
			wait = retry
		}
		select {
		case <-ctx.Done():
			e.close()
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// try connects if need be and tries the lock once: a term when it was
// free, nil and nil when another replica holds it.
func (e *Elector) try(ctx context.Context) (*Term, error) {
	if e.conn == nil {
		conn, err := e.connect(ctx)
		if err != nil {
			return nil, err
		}
		e.conn = conn
	}
	qctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
	defer cancel()
	var locked bool
	if err := e.conn.QueryRow(qctx, `SELECT pg_try_advisory_lock($1)`, int64(lockKey)).Scan(&locked); err != nil {
		return nil, err
	}
	e.reached.Store(time.Now().UnixNano())
	if !locked {
		e.noteLeader(qctx)
		return nil, nil
	}
	return e.lead(qctx)
}

// connect opens the elector's own connection. idle_session_timeout makes
// the server end the session, and so free the lock, when this process
// stops talking (frozen); keepalives notice a peer that is gone.
func (e *Elector) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(e.opts.DSN)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	secs := strconv.Itoa(max(1, int(e.opts.Timeout.Seconds())))
	for k, v := range map[string]string{
		"application_name":        "ibbot leader election (" + e.opts.Identity + ")",
		"idle_session_timeout":    strconv.FormatInt(e.opts.idle().Milliseconds(), 10),
		"tcp_keepalives_idle":     secs,
		"tcp_keepalives_interval": "1",
		"tcp_keepalives_count":    "3",
		"tcp_user_timeout":        strconv.FormatInt(e.opts.Timeout.Milliseconds(), 10),
	} {
		cfg.RuntimeParams[k] = v
	}
	dialer := &net.Dialer{Timeout: e.opts.Timeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: e.opts.Timeout, Interval: time.Second, Count: 3}}
	cfg.DialFunc = dialer.DialContext
	cfg.ConnectTimeout = e.opts.Timeout
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting for leader election: %w", err)
	}
	return conn, nil
}

// noteLeader logs, once per term, which replica leads.
func (e *Elector) noteLeader(ctx context.Context) {
	var epoch int64
	var holder string
	if e.conn.QueryRow(ctx, `SELECT epoch, holder FROM leadership WHERE id = 1`).Scan(&epoch, &holder) != nil {
		return
	}
	e.opts.Metrics.Epoch.Set(float64(epoch))
	if now := fmt.Sprint(epoch, holder); now != e.seen {
		e.seen = now
		e.opts.Log.Info().Int64("epoch", epoch).Str("leader", holder).Msg("Standing by: another replica leads; this one records webhooks for it")
	}
}

// lead starts a term on the lock just taken: it bumps the epoch, which
// fences off every earlier leader, then starts the heartbeat.
func (e *Elector) lead(ctx context.Context) (*Term, error) {
	var epoch int64
	var previous string
	err := e.conn.QueryRow(ctx,
		`UPDATE leadership SET epoch = epoch + 1, holder = $1, since = $2 WHERE id = 1
		 RETURNING epoch, (SELECT holder FROM leadership WHERE id = 1)`,
		e.opts.Identity, time.Now().UnixMilli()).Scan(&epoch, &previous)
	if err != nil {
		return nil, fmt.Errorf("starting a leadership term: %w", err)
	}
	if e.opts.Fence != nil {
		e.opts.Fence(epoch)
	}
	t := &Term{Epoch: epoch, opts: e.opts, conn: e.conn, reached: &e.reached,
		lost: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
	e.conn = nil // the term owns the connection now
	t.beat.Store(time.Now().UnixNano())
	e.opts.Metrics.Leader.Set(1)
	e.opts.Metrics.Epoch.Set(float64(epoch))
	log := e.opts.Log.Info().Int64("epoch", epoch)
	if previous != "" {
		log = log.Str("previous_leader", previous)
	}
	log.Msg("Leadership gained: this replica syncs, answers and sends")
	go t.heartbeat()
	return t, nil
}

func (e *Elector) close() {
	if e.conn != nil {
		e.conn.Close(context.Background())
		e.conn = nil
	}
}

// Term is one stretch of leadership.
type Term struct {
	Epoch   int64
	opts    Options
	conn    *pgx.Conn
	reached *atomic.Int64
	// beat is when the last good heartbeat was sent (unix nanoseconds):
	// the server cannot have freed the lock before beat+Timeout.
	beat atomic.Int64

	loseOnce sync.Once
	lost     chan struct{}
	cause    error
	stop     chan struct{}
	stopped  chan struct{}
}

// Held reports whether leadership is confirmed recently enough to act on.
func (t *Term) Held() bool {
	select {
	case <-t.lost:
		return false
	default:
	}
	return time.Since(time.Unix(0, t.beat.Load())) < t.opts.trust()
}

// Lost is closed when leadership is lost.
func (t *Term) Lost() <-chan struct{} { return t.lost }

// Err says why leadership was lost; nil while it is not.
func (t *Term) Err() error {
	select {
	case <-t.lost:
		return t.cause
	default:
		return nil
	}
}

// Context is parent, also ended when leadership is lost (with the reason
// as its cause).
func (t *Term) Context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	go func() {
		select {
		case <-t.lost:
			cancel(t.cause)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}

// heartbeat proves the lock is still held every Heartbeat, until Release
// or a failure, which loses the term.
func (t *Term) heartbeat() {
	defer close(t.stopped)
	tick := time.NewTicker(t.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-t.lost:
			return
		case <-tick.C:
		}
		if err := t.beatOnce(); err != nil {
			t.lose(err)
			return
		}
	}
}

// beatOnce asks the database for the epoch on the lock's connection: it
// fails if the session is gone (and with it the lock), and tells if
// another replica somehow leads.
func (t *Term) beatOnce() error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.trust())
	defer cancel()
	var epoch int64
	if err := t.conn.QueryRow(ctx, `SELECT epoch FROM leadership WHERE id = 1`).Scan(&epoch); err != nil {
		t.opts.Metrics.HeartbeatFailures.Inc()
		return fmt.Errorf("heartbeat failed: %w", err)
	}
	if epoch != t.Epoch {
		return fmt.Errorf("epoch is %d, not this term's %d: another replica leads", epoch, t.Epoch)
	}
	t.beat.Store(start.UnixNano())
	t.reached.Store(time.Now().UnixNano())
	return nil
}

// lose ends the term at once: whatever the reason, this replica must stop
// acting as leader.
func (t *Term) lose(cause error) {
	t.loseOnce.Do(func() {
		t.cause = fmt.Errorf("%w: %w", ErrLost, cause)
		// Said before the work is told to stop, so the log always holds
		// the reason by the time anything reacts to the loss.
		t.opts.Log.Error().Err(cause).Int64("epoch", t.Epoch).Msg("Leadership lost: stopping all Matrix work at once")
		close(t.lost)
		t.opts.Metrics.Leader.Set(0)
		t.conn.Close(context.Background()) // whatever is left of the session frees the lock
	})
}

// ErrLost is the cause of a term's context when leadership was lost.
var ErrLost = errors.New("leadership lost")

// Release ends the term on purpose (a stop): the lock is given back at
// once, so a standby takes over without waiting for any timeout.
func (t *Term) Release() {
	select {
	case <-t.stop:
		return
	default:
		close(t.stop)
	}
	<-t.stopped
	if t.Err() != nil {
		return
	}
	t.loseOnce.Do(func() {
		t.cause = fmt.Errorf("%w: released", ErrLost)
		close(t.lost)
	})
	t.opts.Metrics.Leader.Set(0)
	ctx, cancel := context.WithTimeout(context.Background(), t.opts.Timeout)
	defer cancel()
	if _, err := t.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, int64(lockKey)); err != nil {
		t.opts.Log.Warn().Err(err).Msg("Giving leadership back failed; the server frees it when the connection closes")
	}
	t.conn.Close(ctx)
	t.opts.Log.Info().Int64("epoch", t.Epoch).Msg("Leadership released")
}

// Metrics are the leadership's gauges.
type Metrics struct {
	Leader            prometheus.Gauge
	Epoch             prometheus.Gauge
	HeartbeatFailures prometheus.Counter
}

// NewMetrics registers the leadership metrics on reg (nil: unregistered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ibbot_leader",
			Help: "1 while this replica is the leader: it syncs, answers and sends."}),
		Epoch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ibbot_leader_epoch",
			Help: "The leadership epoch: how many times a replica became leader on this database."}),
		HeartbeatFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "ibbot_leader_heartbeat_failures_total",
			Help: "Leadership heartbeats that failed (each ends the term)."}),
	}
	if reg != nil {
		reg.MustRegister(m.Leader, m.Epoch, m.HeartbeatFailures)
	}
	return m
}
