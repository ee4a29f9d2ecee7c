package skeleton

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/worker"
)

// Item is one thing the outside announces.
type Item struct {
	ID     string // stable: the key of its announcement
	Target string // what rooms follow
	Title  string
	URL    string
}

// Feed reads the outside: the items it has now.
type Feed interface {
	Items(ctx context.Context) ([]Item, error)
}

// Poster queues an announcement for a room; the key makes it idempotent
// (the bot's outbox).
type Poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
}

// KV keeps the source's state between runs (the store).
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Watcher announces the feed's new items to the rooms that follow them.
type Watcher struct {
	Feed     Feed
	Scope    *Scope
	Store    KV
	Poster   Poster
	Interval time.Duration
	Log      zerolog.Logger
	Now      func() time.Time

	state health.State
}

// Health says how the last round went, for !status.
func (w *Watcher) Health() health.Report { return w.state.Report(Kind, "not checked yet") }

// Run checks at once and then every Interval until ctx ends (only the
// leading replica runs it).
func (w *Watcher) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: Kind, Interval: w.Interval, Retry: backoff.Policy{Min: 10 * time.Second, Max: w.Interval},
		Health: &w.state, Now: w.Now, Log: w.Log,
		Round: func(ctx context.Context) (string, error) {
			n, err := w.Check(ctx)
			return fmt.Sprintf("%d new items in the last round", n), err
		},
	}
	return loop.Run(ctx)
}

// Check announces the items not seen before and returns how many. An item
// is marked seen only after it was queued for every room, so a crash in
// between queues it again, under the same keys.
func (w *Watcher) Check(ctx context.Context) (int, error) {
	items, err := w.Feed.Items(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the feed: %w", err)
	}
	var errs []error
	n := 0
	for _, it := range items {
		fresh, err := w.announce(ctx, it)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", it.ID, err))
		}
		if fresh {
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (w *Watcher) announce(ctx context.Context, it Item) (bool, error) {
	seenKey := Kind + ".seen." + it.ID
	if _, seen, err := w.Store.Get(ctx, seenKey); err != nil || seen {
		return false, err
	}
	for _, room := range roomsFor(w.Scope, it) {
		if err := w.Poster.Post(ctx, Kind+":"+it.ID+":"+room, room, Render(it)); err != nil {
			return false, err
		}
	}
	return true, w.Store.Put(ctx, seenKey, w.Now().UTC().Format(time.RFC3339))
}
