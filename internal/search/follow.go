package search

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Changes is what a Follower reads: the store's search documents changed
// after a seq, in order.
type Changes interface {
	SearchDocsSince(ctx context.Context, seq int64, limit int) ([]store.SearchDoc, error)
}

// followBatch is how many changes one read takes, and so how many
// documents one bleve batch indexes: a batch is a segment that background
// merges copy, so larger ones raise the peak while a replica builds its
// index at start (BenchmarkMemory: 200 peaks at ~200 MiB over the process
// for the 10,000 mails and 5,000 issues, 500 at ~240 MiB, 2,000
// at ~600 MiB), and smaller ones are no faster.
const followBatch = 200

// Follower keeps an index in step with the store: every replica runs one,
// leader or not, so all answer alike. It starts from nothing (the index is
// derived) and then reads only what changed.
type Follower struct {
	Store    Changes
	Index    *Index
	Interval time.Duration // between reads when not woken
	Log      zerolog.Logger
	Now      func() time.Time

	state health.State
	wake  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	seq   int64 // the last change indexed
}

// Health says how far the index follows, for !status.
func (f *Follower) Health() health.Report { return f.state.Report("search index", "not built yet") }

// Wake asks for a read at once: a source on this replica just wrote.
func (f *Follower) Wake() {
	select {
	case f.wakeCh() <- struct{}{}:
	default:
	}
}

func (f *Follower) wakeCh() chan struct{} {
	f.once.Do(func() { f.wake = make(chan struct{}, 1) })
	return f.wake
}

// Run follows the store until ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Search index", Interval: f.Interval, Retry: backoff.Policy{Min: time.Second, Max: f.Interval},
		Wake: f.wakeCh(), Health: &f.state, Now: f.Now, Log: f.Log,
		Round: func(ctx context.Context) (string, error) {
			n, err := f.CatchUp(ctx)
			if err != nil {
				return "", err
			}
			count, _ := f.Index.Count()
			return fmt.Sprintf("%d documents (%d new changes)", count, n), nil
		},
	}
	return loop.Run(ctx)
}

// CatchUp indexes every change since the last one indexed and returns how
// many it read.
func (f *Follower) CatchUp(ctx context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	total := 0
	for {
		changes, err := f.Store.SearchDocsSince(ctx, f.seq, followBatch)
		if err != nil {
			return total, fmt.Errorf("reading the search documents: %w", err)
		}
		if len(changes) == 0 {
			return total, nil
		}
		if err := f.apply(ctx, changes); err != nil {
			return total, err
		}
		f.seq = changes[len(changes)-1].Seq
		total += len(changes)
	}
}

func (f *Follower) apply(ctx context.Context, changes []store.SearchDoc) error {
	var put []Doc
	var gone []string
	for _, c := range changes {
		if c.Deleted {
			gone = append(gone, c.ID)
			continue
		}
		put = append(put, Doc{ID: c.ID, Kind: Kind(c.Kind), Scope: c.Scope, Title: c.Title, Heading: c.Heading,
			Body: c.Body, Extra: c.Extra, URL: c.URL, Date: c.Dated})
	}
	if err := f.Index.Put(ctx, put...); err != nil {
		return err
	}
	return f.Index.Delete(ctx, gone...)
}
