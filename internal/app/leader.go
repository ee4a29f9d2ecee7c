package app

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/leader"
	"github.com/osbuild/ibbot/internal/store"
)

// leadership is how this process comes to do the bot's work. On SQLite it
// is alone (the file is locked) and leads at once. On PostgreSQL it
// campaigns: one replica leads, the others stand by and only record
// webhooks for it.
type leadership struct {
	elector *leader.Elector // nil: alone
	metrics *leader.Metrics
	lease   *termLease
}

func newLeadership(cfg *config.Config, st *store.DB, reg prometheus.Registerer, log zerolog.Logger) *leadership {
	l := &leadership{metrics: leader.NewMetrics(reg), lease: &termLease{}}
	if !store.IsPostgres(cfg.Database) {
		return l
	}
	host, _ := os.Hostname()
	l.elector = leader.New(leader.Options{
		DSN: cfg.Database, Heartbeat: cfg.Leader.Heartbeat, Timeout: cfg.Leader.Timeout,
		Identity: fmt.Sprintf("%s/%d", host, os.Getpid()), Fence: st.Fence, Metrics: l.metrics,
		Log: log.With().Str("component", "leader").Logger(),
	})
	return l
}

// botLease is what the bot checks before it acts; nil when alone.
func (l *leadership) botLease() bot.Lease {
	if l.elector == nil {
		return nil
	}
	return l.lease
}

// run campaigns (when there is anyone to campaign against), then runs the
// leader's work until ctx ends or leadership is lost. A lost leadership
// is an error: the process exits and its supervisor restarts it as a
// standby, as Kubernetes controllers do, rather than risk any state of
// the term living on.
func (l *leadership) run(ctx context.Context, work func(ctx context.Context) error) error {
	if l.elector == nil {
		l.metrics.Leader.Set(1)
		defer l.metrics.Leader.Set(0)
		return work(ctx)
	}
	term, err := l.elector.Campaign(ctx)
	if err != nil {
		return nil // stopped while standing by
	}
	l.lease.term.Store(term)
	defer term.Release()
	termCtx, cancel := term.Context(ctx)
	defer cancel()
	err = work(termCtx)
	if lost := term.Err(); lost != nil {
		return lost
	}
	return err
}

// ready says what /readyz answers: whether this replica can take webhooks.
func (l *leadership) ready(botReady func() bool) (string, error) {
	switch {
	case l.lease.Held() || l.elector == nil:
		if !botReady() {
			return "", fmt.Errorf("first sync not done")
		}
		return "leader", nil
	case l.elector.Reachable():
		return "standby (webhooks are recorded for the leader)", nil
	default:
		return "", fmt.Errorf("the database is unreachable")
	}
}

// termLease is the bot's view of the current term (bot.Lease).
type termLease struct{ term atomic.Pointer[leader.Term] }

func (l *termLease) Held() bool {
	t := l.term.Load()
	return t != nil && t.Held()
}

func (l *termLease) Lost() <-chan struct{} {
	if t := l.term.Load(); t != nil {
		return t.Lost()
	}
	return nil
}

// runParts runs fns together until all return; the first failure ends
// the others.
func runParts(ctx context.Context, fns ...func(ctx context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, fn := range fns {
		g.Go(func() error { return fn(ctx) })
	}
	return g.Wait()
}
