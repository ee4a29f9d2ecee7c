package github

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/safe"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Relay turns changes (from webhooks and polling) into room messages: one
// message per item, edited when its state changes, with a line in its
// thread. Webhooks and polling record what they receive as deliveries, and
// the relay's own goroutine works through them: it alone owns the item
// state, so a change seen by both is announced once, without locks.
type Relay struct {
	store          Store
	poster         Poster
	subs           *Subscriptions
	settings       *roomscope.Settings
	window         time.Duration
	digestEvery    time.Duration
	keepDeliveries time.Duration
	now            func() time.Time
	log            zerolog.Logger
	search         SearchDocs
	wrote          func()
	queue          *Queue
	ownComments    OwnComments

	wake       chan struct{}
	lastDigest time.Time
	lastPrune  time.Time
	state      health.State
	processed  atomic.Int64 // deliveries turned into announcements since start
}

// Health is the relay's part on !status and the status page.
func (r *Relay) Health() health.Report { return r.state.Report("GitHub relay", "not started yet") }

// RelayOptions configure NewRelay.
type RelayOptions struct {
	Store  Store
	Poster Poster
	Config config.GitHub
	// Subs decide who gets what.
	Subs *Subscriptions
	// Settings say whether a room wants thread lines.
	Settings *roomscope.Settings
	// KeepDeliveries is how long processed deliveries are kept (their ids
	// deduplicate redeliveries); default 30 days.
	KeepDeliveries time.Duration
	Now            func() time.Time
	Log            zerolog.Logger
	// Search, when set, keeps the issues and pull requests for !search;
	// Wrote (may be nil) is told after each write.
	Search SearchDocs
	Wrote  func()
	// Queue, when set, is told every change applied (the review queue).
	Queue *Queue
	// OwnComments, when set, are the comments people made from chat,
	// which are not announced (Acting marks them).
	OwnComments OwnComments
}

// NewRelay builds the relay.
func NewRelay(o RelayOptions) *Relay {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.KeepDeliveries <= 0 {
		o.KeepDeliveries = 30 * 24 * time.Hour
	}
	return &Relay{keepDeliveries: o.KeepDeliveries,
		store: o.Store, poster: o.Poster, subs: o.Subs, settings: o.Settings,
		window: o.Config.AggregationWindow, digestEvery: o.Config.DigestInterval, now: o.Now, log: o.Log,
		wake: make(chan struct{}, 1), lastDigest: o.Now(), search: o.Search, wrote: o.Wrote, queue: o.Queue, ownComments: o.OwnComments,
	}
}

// Poke tells the relay a delivery is waiting.
func (r *Relay) Poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run processes deliveries as they arrive, releases items whose
// aggregation window has passed, and sends digests, until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "GitHub relay step", Interval: min(time.Second, max(r.window/4, 50*time.Millisecond)), Wake: r.wake,
		Round: func(ctx context.Context) (string, error) {
			if err := r.step(ctx); err != nil {
				return "", err
			}
			return fmt.Sprintf("announcing GitHub activity; %d deliveries handled since the start", r.processed.Load()), nil
		},
		Health: &r.state, Now: r.now, Log: r.log,
	}
	return loop.Run(ctx)
}

func (r *Relay) step(ctx context.Context) error {
	for {
		batch, err := r.store.PendingDeliveries(ctx, 64)
		if err != nil || len(batch) == 0 {
			if err != nil {
				return err
			}
			break
		}
		for _, d := range batch {
			if err := r.processDelivery(ctx, d); err != nil {
				return err
			}
			r.processed.Add(1)
		}
	}
	if err := r.releaseDue(ctx); err != nil {
		return err
	}
	if r.now().Sub(r.lastDigest) >= r.digestEvery {
		if err := r.FlushDigests(ctx); err != nil {
			return err
		}
	}
	if r.now().Sub(r.lastPrune) >= 24*time.Hour {
		r.lastPrune = r.now()
		if _, err := r.store.PruneDeliveries(ctx, r.now().Add(-r.keepDeliveries)); err != nil {
			r.log.Warn().Err(err).Msg("Pruning old deliveries failed")
		}
	}
	return nil
}

// processDelivery applies one stored delivery. A malformed one is logged
// and dropped (it would fail the same way forever); a failure to post is
// returned, and the delivery stays for the next try. A delivery that makes
// the relay panic is dropped too: kept, it would crash the bot again at
// every start.
func (r *Relay) processDelivery(ctx context.Context, d store.Delivery) error {
	log := r.log.With().Str("delivery", d.ID).Str("event", d.Event).Logger()
	err := safe.Call(log, "A delivery crashed the relay; dropping it", func() error { return r.applyDelivery(ctx, d) })
	var crashed *safe.Panic
	if errors.As(err, &crashed) {
		return r.store.DeliveryDone(ctx, d.ID)
	}
	return err
}

func (r *Relay) applyDelivery(ctx context.Context, d store.Delivery) error {
	change, ok, err := fromDelivery(d)
	switch {
	case err != nil:
		r.log.Warn().Err(err).Str("delivery", d.ID).Str("event", d.Event).Msg("Dropping a delivery that does not parse")
	case ok:
		if err := r.Apply(ctx, change); err != nil {
			return fmt.Errorf("delivery %s: %w", d.ID, err)
		}
	}
	return r.store.DeliveryDone(ctx, d.ID)
}

// Apply acts on one change. Only the relay's goroutine calls it (Run), or
// a test with no Run going.
func (r *Relay) Apply(ctx context.Context, c Change) error {
	if err := r.announce(ctx, c); err != nil {
		return err
	}
	if r.queue != nil {
		return r.queue.Observe(ctx, c)
	}
	return nil
}

func (r *Relay) announce(ctx context.Context, c Change) error {
	switch {
	case c.CI != nil:
		return r.ci(ctx, c)
	case c.Review != nil:
		return r.review(ctx, c)
	case c.Item.Kind == KindDiscussion:
		return r.discussion(ctx, c)
	case c.Comment != nil:
		return r.comment(ctx, c)
	case c.Item.Kind == KindRelease:
		return r.release(ctx, c.Item)
	default:
		return r.itemChange(ctx, c)
	}
}

// noThreads reports whether a room wants no thread lines: as it said in
// chat (!gh settings threads), or else as the config says.
func (r *Relay) noThreads(room string) bool {
	v, _ := r.settings.Lookup(room, "threads")
	return v == "off"
}

func rootKey(room, item string) string { return "gh:root:" + room + ":" + item }

// allRooms lists every room any rule sends to.
func (r *Relay) allRooms() []string { return r.subs.Rooms() }
