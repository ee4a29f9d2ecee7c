package mail

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/osbuild/ibbot/internal/safe"
)

// closeGuard closes the connection when the watcher stops, but never under
// a running FETCH: go-imap v2.0.0-beta.8 has its reader goroutine and the
// caller's discard of a half-read literal touch the same buffer when the
// connection closes mid-literal (the race detector caught it). A FETCH
// finishes on its own (the server answers, or go-imap's read timeout
// fires), and the relay loop checks ctx between mails.
type closeGuard struct {
	mu       sync.Mutex
	c        *imapclient.Client
	fetching bool
	stopped  bool
}

func (g *closeGuard) cancel() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	if !g.fetching {
		g.c.Close()
	}
}

// begin reports false when the watcher is stopping and no FETCH may start.
func (g *closeGuard) begin() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fetching = !g.stopped
	return g.fetching
}

func (g *closeGuard) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.fetching = false
	if g.stopped {
		g.c.Close()
	}
}

// start loads the stored position; the very first start begins at the end
// of the mailbox (less the backfill), and a changed UIDVALIDITY resyncs.
func (w *Watcher) start(ctx context.Context, c *imapclient.Client, sel *imap.SelectData) (position, error) {
	var pos position
	raw, ok, err := w.Store.Get(ctx, w.key())
	if err != nil {
		return pos, err
	}
	if ok {
		json.Unmarshal([]byte(raw), &pos)
	}
	switch {
	case !ok:
		pos = position{UIDValidity: sel.UIDValidity}
		if next := uint32(sel.UIDNext); next > 1 {
			pos.LastUID = imap.UID(max(0, int(next)-1-w.Backfill))
		}
		return pos, w.save(ctx, pos)
	case pos.UIDValidity != sel.UIDValidity:
		w.Log.Warn().Uint32("was", pos.UIDValidity).Uint32("now", sel.UIDValidity).
			Msg("UIDVALIDITY changed: rereading the mailbox; mails already relayed are recognised by Message-ID")
		pos.UIDValidity, pos.LastUID = sel.UIDValidity, 0
		if !pos.LastDate.IsZero() {
			pos.SkipBefore = pos.LastDate.Add(-time.Hour)
		}
		return pos, w.save(ctx, pos)
	}
	return pos, nil
}

func (w *Watcher) save(ctx context.Context, pos position) error {
	b, _ := json.Marshal(pos)
	return w.Store.Put(context.WithoutCancel(ctx), w.key(), string(b))
}

// fetchBatch bounds how many mails one FETCH reads: after a long outage
// memory stays small, and a shutdown (which waits for a running FETCH)
// stays quick.
const fetchBatch = 20

// pending is a message not handled yet, as listed by fetchNew.
type pending struct {
	uid  imap.UID
	date time.Time
}

// fetchNew relays every message with a UID above the last handled one, in
// UID order, until no more arrive. It lists them cheaply (UID and date),
// then reads the bodies in batches.
func (w *Watcher) fetchNew(ctx context.Context, c *imapclient.Client, guard *closeGuard, pos *position, heard time.Time) error {
	for {
		list, err := w.listNew(ctx, c, guard, pos.LastUID)
		if err != nil {
			return err
		}
		if len(list) > 0 {
			w.Metrics.stage(stageListed, heard)
		}
		if len(list) == 0 {
			if !pos.SkipBefore.IsZero() {
				pos.SkipBefore = time.Time{} // caught up after a resync
				return w.save(ctx, *pos)
			}
			return nil
		}
		for batch := range slices.Chunk(list, fetchBatch) {
			if err := w.relayBatch(ctx, c, guard, pos, batch, heard); err != nil {
				return err
			}
		}
	}
}

// listNew lists the messages above last. "UID n:*" always returns the last
// message even when n is past the end, so UIDs are filtered here too.
func (w *Watcher) listNew(ctx context.Context, c *imapclient.Client, guard *closeGuard, last imap.UID) ([]pending, error) {
	var set imap.UIDSet
	set.AddRange(last+1, 0) // 0 is "*"
	msgs, err := w.fetch(ctx, c, guard, set, &imap.FetchOptions{UID: true, InternalDate: true})
	if err != nil {
		return nil, fmt.Errorf("listing new mail: %w", err)
	}
	var list []pending
	for _, m := range msgs {
		if m.UID > last {
			list = append(list, pending{uid: m.UID, date: m.InternalDate})
		}
	}
	slices.SortFunc(list, func(a, b pending) int { return cmp.Compare(a.uid, b.uid) })
	return list, nil
}

// relayBatch reads the bodies of a batch (never more than the configured
// mail size each: BODY.PEEK[]<0.max>) and relays them in UID order,
// storing the position after each. Mail older than a resync's SkipBefore
// was handled under the old UIDVALIDITY and is not even downloaded.
func (w *Watcher) relayBatch(ctx context.Context, c *imapclient.Client, guard *closeGuard, pos *position, batch []pending, heard time.Time) error {
	var set imap.UIDSet
	for _, m := range batch {
		if !m.date.Before(pos.SkipBefore) {
			set.AddNum(m.uid)
		}
	}
	bodies := map[imap.UID][]byte{}
	if len(set) > 0 {
		section := w.bodySection()
		msgs, err := w.fetch(ctx, c, guard, set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
		if err != nil {
			return fmt.Errorf("fetching new mail: %w", err)
		}
		for _, m := range msgs {
			bodies[m.UID] = m.FindBodySection(section)
		}
		w.Metrics.stage(stageFetched, heard)
	}
	for _, m := range batch {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		raw, listed := bodies[m.uid]
		switch {
		case m.date.Before(pos.SkipBefore):
		case !listed:
			w.Log.Info().Uint32("uid", uint32(m.uid)).Msg("A mail was deleted before it could be read; skipping it")
		case raw == nil:
			// Never skip silently what the server did send.
			return fmt.Errorf("the server sent UID %d without its body", m.uid)
		default:
			if err := w.handleOrSkip(ctx, m.uid, raw); err != nil {
				return fmt.Errorf("relaying UID %d: %w", m.uid, err)
			}
		}
		pos.LastUID = m.uid
		if m.date.After(pos.LastDate) {
			pos.LastDate = m.date
		}
		if err := w.save(ctx, *pos); err != nil {
			return err
		}
	}
	return nil
}

// handleOrSkip relays one mail. A mail that makes the relay panic (a bug)
// is skipped with a log line: retried, it would crash the bot at every
// start.
func (w *Watcher) handleOrSkip(ctx context.Context, uid imap.UID, raw []byte) error {
	err := safe.Call(w.Log.With().Uint32("uid", uint32(uid)).Logger(), "A mail crashed the relay; skipping it", func() error { return w.Handle(ctx, raw) })
	var crashed *safe.Panic
	if errors.As(err, &crashed) {
		return nil
	}
	return err
}

// bodySection is the whole message, peeked (\Seen stays as it is), and
// cut at MaxMailBytes when set.
func (w *Watcher) bodySection() *imap.FetchItemBodySection {
	s := &imap.FetchItemBodySection{Peek: true}
	if w.MaxMailBytes > 0 {
		s.Partial = &imap.SectionPartial{Offset: 0, Size: int64(w.MaxMailBytes)}
	}
	return s
}

// fetch runs one FETCH to the end, unless the watcher is stopping.
func (w *Watcher) fetch(ctx context.Context, c *imapclient.Client, guard *closeGuard, set imap.UIDSet, opts *imap.FetchOptions) ([]*imapclient.FetchMessageBuffer, error) {
	if !guard.begin() {
		return nil, ctx.Err()
	}
	defer guard.end()
	return c.Fetch(set, opts).Collect()
}
