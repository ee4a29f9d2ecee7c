package github

// The aggregation window: a new item is held back, so labels added right after it opened count for the filters.

import (
	"context"
	"errors"
	"time"

	"github.com/osbuild/ibbot/internal/safe"
	"github.com/osbuild/ibbot/internal/store"
)

// releaseDue decides about items whose aggregation window has passed.
func (r *Relay) releaseDue(ctx context.Context) error {
	keys, err := r.store.DueItems(ctx, r.now())
	if err != nil {
		return err
	}
	for _, key := range keys {
		if err := r.decideOrDrop(ctx, key); err != nil {
			return err
		}
	}
	return nil
}

// decideOrDrop decides about an item; one that makes the relay panic is
// taken out of the aggregation queue, or it would crash the bot at every
// step.
func (r *Relay) decideOrDrop(ctx context.Context, key string) error {
	err := safe.Call(r.log.With().Str("item", key).Logger(), "An item crashed the relay; it will not be announced", func() error { return r.decide(ctx, key) })
	var crashed *safe.Panic
	if !errors.As(err, &crashed) {
		return err
	}
	row, found, err := r.store.Item(ctx, key)
	if err != nil || !found {
		return err
	}
	row.DueAt = time.Time{}
	return r.store.PutItem(ctx, key, row, r.now())
}

// decide posts a new item where the rules (with the labels it has now)
// want it, or adds it to a digest.
func (r *Relay) decide(ctx context.Context, key string) error {
	row, found, err := r.store.Item(ctx, key)
	if err != nil || !found || row.DueAt.IsZero() {
		return err
	}
	it, err := decodeItem(row.Data)
	if err != nil {
		return err
	}
	for room, mode := range Route(r.subs, it, false) {
		switch mode {
		case Show:
			err = r.poster.PostRoot(ctx, rootKey(room, key), room, RenderItem(it))
		case Digest:
			err = r.store.AddDigest(ctx, store.DigestEntry{Room: room, Repo: it.Repo, ItemKey: key, Title: it.Title, URL: it.URL, AddedAt: r.now()})
		}
		if err != nil {
			return err
		}
	}
	it.Announced = true
	row.Data, row.DueAt = encodeItem(it), time.Time{}
	return r.store.PutItem(ctx, key, row, r.now())
}
