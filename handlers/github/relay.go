package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/osbuild/ibbot/internal/health"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/safe"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Store is what the relay keeps between runs: the deliveries it works
// through (from the webhook and the poller), what it knows of each item,
// and the bot pull requests waiting for a digest.
type Store interface {
	DeliveryQueue
	ItemStore
	DigestStore
}

// DeliveryQueue holds recorded deliveries until the relay is done with them.
type DeliveryQueue interface {
	PendingDeliveries(ctx context.Context, limit int) ([]store.Delivery, error)
	DeliveryDone(ctx context.Context, id string) error
	PruneDeliveries(ctx context.Context, cutoff time.Time) (int64, error)
}

// ItemStore keeps the relay's state of each issue, pull request and release.
type ItemStore interface {
	Item(ctx context.Context, key string) (store.ItemRow, bool, error)
	PutItem(ctx context.Context, key string, r store.ItemRow, at time.Time) error
	DueItems(ctx context.Context, now time.Time) ([]string, error)
}

// DigestStore keeps bot pull requests until their digest is posted.
type DigestStore interface {
	AddDigest(ctx context.Context, e store.DigestEntry) error
	Digests(ctx context.Context) ([]store.DigestEntry, error)
	DropDigest(ctx context.Context, room string, keys []string) error
}

// Recorder records a delivery durably for the relay; it reports whether
// the delivery is new (GitHub's redeliveries and repeated polls are not).
type Recorder interface {
	SaveDelivery(ctx context.Context, d store.Delivery, at time.Time) (bool, error)
}

// Poster sends the relay's messages; every one has a key that makes it
// idempotent, so a replay after a crash posts nothing twice.
type Poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
	PostRoot(ctx context.Context, key, room string, r bot.Reply) error
	Edit(ctx context.Context, key, room, targetKey string, r bot.Reply) error
	PostInThread(ctx context.Context, key, room, rootKey string, r bot.Reply) error
	Posted(ctx context.Context, key string) (bool, error)
}

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
		wake: make(chan struct{}, 1), lastDigest: o.Now(),
	}
}

// fromDelivery reads a recorded delivery: a webhook's, or a change the
// poller found.
func fromDelivery(d store.Delivery) (Change, bool, error) {
	if d.Event != PollEvent {
		return FromWebhook(d.Event, d.Payload)
	}
	var c Change
	if err := json.Unmarshal(d.Payload, &c); err != nil {
		return Change{}, false, fmt.Errorf("a recorded poll result does not parse: %w", err)
	}
	return c, true, nil
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

func (r *Relay) itemChange(ctx context.Context, c Change) error {
	key := c.Item.Key()
	row, found, err := r.store.Item(ctx, key)
	if err != nil {
		return err
	}
	now := r.now()
	it := c.Item
	if !found {
		return r.firstSight(ctx, key, c, now)
	}
	old, err := decodeItem(row.Data)
	if err != nil {
		return err
	}
	if old.History && c.Action == "opened" {
		return r.firstSight(ctx, key, c, now) // the poller only guessed it was old
	}
	it.Announced, it.History = old.Announced, old.History
	row.Data = encodeItem(it)
	if !row.DueAt.IsZero() { // still in its aggregation window: keep the freshest snapshot
		return r.store.PutItem(ctx, key, row, now)
	}
	action := transition(old, it, c.Action)
	if action == "" {
		if !old.History && !slices.Equal(sortedLower(old.Labels), sortedLower(it.Labels)) {
			if err := r.announceNewMatches(ctx, old, it); err != nil {
				return err
			}
		}
		return r.store.PutItem(ctx, key, row, now)
	}
	c.Action = action
	row.Version++
	if err := r.announceChange(ctx, it, c, row.Version); err != nil {
		return err
	}
	return r.store.PutItem(ctx, key, row, now)
}

// firstSight handles an item the relay has never seen: a new one waits
// out the aggregation window; one whose first news is a state change is
// announced with its state; anything else is only recorded.
func (r *Relay) firstSight(ctx context.Context, key string, c Change, now time.Time) error {
	it := c.Item
	row := store.ItemRow{}
	switch {
	case c.Action == "opened" || (c.Action == "ready_for_review" && !it.Draft):
		row.DueAt = now.Add(r.window)
	case c.Action == "closed" || c.Action == "reopened" || c.Action == "transferred":
		it.Announced = true
		row.Version = 1
		row.Data = encodeItem(it)
		if err := r.announceChange(ctx, it, c, row.Version); err != nil {
			return err
		}
	default:
		it.Announced, it.History = true, true // only a later change is news
	}
	row.Data = encodeItem(it)
	if err := r.store.PutItem(ctx, key, row, now); err != nil {
		return err
	}
	if !row.DueAt.IsZero() && r.window <= 0 {
		return r.decideOrDrop(ctx, key)
	}
	return nil
}

// transition names the state change between two snapshots, or "".
func transition(old, cur Item, hint string) string {
	switch {
	case hint == "transferred":
		return "transferred"
	case old.State != cur.State && cur.State == "open":
		return "reopened"
	case old.State != cur.State && (cur.State == "closed" || cur.State == "merged"):
		return "closed"
	case old.Draft && !cur.Draft && cur.State == "open":
		return "ready_for_review"
	default:
		return ""
	}
}

func sortedLower(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.ToLower(l)
	}
	slices.Sort(out)
	return out
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

// announceChange edits the item's message in every room that has one and
// adds a line in its thread; rooms that match but never got the item get
// it now, with its new state.
func (r *Relay) announceChange(ctx context.Context, it Item, c Change, version int) error {
	routes := Route(r.subs, it, false)
	c.Item = it
	for _, room := range r.allRooms() {
		root := rootKey(room, it.Key())
		posted, err := r.poster.Posted(ctx, root)
		if err != nil {
			return err
		}
		suffix := fmt.Sprintf(":%s:v%d", it.Key(), version)
		switch {
		case posted:
			if err := r.poster.Edit(ctx, "gh:edit:"+room+suffix, room, root, RenderItem(it)); err != nil {
				return err
			}
			if !r.noThreads(room) {
				if err := r.poster.PostInThread(ctx, "gh:line:"+room+suffix, room, root, RenderLine(c)); err != nil {
					return err
				}
			}
		case routes[room] == Show:
			if err := r.poster.PostRoot(ctx, root, room, RenderItem(it)); err != nil {
				return err
			}
		}
	}
	return nil
}

// announceNewMatches posts the item in the rooms where the change from
// old to it (a label added or taken away) made it match: a room it
// matched before has had its chance, whether it was shown there or not.
func (r *Relay) announceNewMatches(ctx context.Context, old, it Item) error {
	before := Route(r.subs, old, false)
	for room, mode := range Route(r.subs, it, false) {
		if mode != Show || before[room] == Show {
			continue
		}
		if err := r.poster.PostRoot(ctx, rootKey(room, it.Key()), room, RenderItem(it)); err != nil {
			return err
		}
	}
	return nil
}

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

func (r *Relay) release(ctx context.Context, it Item) error {
	key := it.Key()
	if _, found, err := r.store.Item(ctx, key); err != nil || found {
		return err
	}
	for room, mode := range Route(r.subs, it, false) {
		if mode != Show {
			continue
		}
		if err := r.poster.Post(ctx, "gh:release:"+room+":"+key, room, RenderRelease(it)); err != nil {
			return err
		}
	}
	it.Announced = true
	return r.store.PutItem(ctx, key, store.ItemRow{Data: encodeItem(it)}, r.now())
}

func (r *Relay) comment(ctx context.Context, c Change) error {
	for room, mode := range Route(r.subs, c.Item, true) {
		if mode != Show {
			continue
		}
		key := fmt.Sprintf("gh:comment:%s:%d", room, c.Comment.ID)
		root := rootKey(room, c.Item.Key())
		posted, err := r.poster.Posted(ctx, root)
		if err != nil {
			return err
		}
		if posted && !r.noThreads(room) {
			err = r.poster.PostInThread(ctx, key, room, root, RenderComment(c))
		} else {
			err = r.poster.Post(ctx, key, room, RenderComment(c))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// FlushDigests posts one digest per room and repository for the bot pull
// requests that waited since the last one.
func (r *Relay) FlushDigests(ctx context.Context) error {
	entries, err := r.store.Digests(ctx)
	if err != nil {
		return err
	}
	type group struct{ room, repo string }
	byGroup := map[group][]store.DigestEntry{}
	var order []group
	for _, e := range entries {
		g := group{e.Room, strings.ToLower(e.Repo)}
		if _, seen := byGroup[g]; !seen {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], e)
	}
	var errs []error
	for _, g := range order {
		es := byGroup[g]
		var shown []DigestEntry
		var keys []string
		for _, e := range es {
			shown = append(shown, DigestEntry{Title: e.Title, URL: e.URL, Ref: "#" + e.ItemKey[strings.LastIndexByte(e.ItemKey, '#')+1:]})
			keys = append(keys, e.ItemKey)
		}
		key := fmt.Sprintf("gh:digest:%s:%s:%d", g.room, g.repo, es[0].AddedAt.UnixMilli())
		if err := r.poster.Post(ctx, key, g.room, RenderDigest(es[0].Repo, shown)); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, r.store.DropDigest(ctx, g.room, keys))
	}
	r.lastDigest = r.now()
	return errors.Join(errs...)
}

// ci announces a workflow that starts failing on a repository's default
// branch, once (later failing runs of it say nothing new), and "fixed"
// once when it passes again. The state per workflow is kept with the
// items, so a restart or a redelivery announces nothing twice.
func (r *Relay) ci(ctx context.Context, c Change) error {
	run := *c.CI
	key := fmt.Sprintf("ci:%s:%d", strings.ToLower(c.Item.Repo), run.WorkflowID)
	row, _, err := r.store.Item(ctx, key)
	if err != nil {
		return err
	}
	failing := strings.HasPrefix(row.Data, "failing")
	var reply bot.Reply
	var msgKey string
	switch {
	case c.Item.History:
		// The first poll of a repository: where each workflow stands,
		// not news.
	case run.Failed() && !failing:
		reply, msgKey = RenderCIFailure(c), fmt.Sprintf("gh:ci:%s:%d:failed", key, run.RunID)
	case run.Conclusion == "success" && failing:
		reply, msgKey = RenderCIFixed(c), fmt.Sprintf("gh:ci:%s:%d:fixed", key, run.RunID)
	default:
		return nil // still failing, still passing, or a run that says nothing (cancelled)
	}
	if c.Item.History {
		return r.store.PutItem(ctx, key, store.ItemRow{Data: ciState(run)}, r.now())
	}
	for room := range Route(r.subs, c.Item, false) {
		if err := r.poster.Post(ctx, msgKey+":"+room, room, reply); err != nil {
			return err
		}
	}
	return r.store.PutItem(ctx, key, store.ItemRow{Data: ciState(run)}, r.now())
}

// ciState is how a workflow stands after run.
func ciState(run CIRun) string {
	if run.Failed() {
		return fmt.Sprintf("failing:%d", run.RunID)
	}
	return "passing"
}

// discussion announces a new discussion as a message of its own, and its
// chosen answer as a line in that message's thread.
func (r *Relay) discussion(ctx context.Context, c Change) error {
	item := "discussion:" + c.Item.Key()
	for room := range Route(r.subs, c.Item, false) {
		root := rootKey(room, item)
		var err error
		switch c.Action {
		case "created":
			err = r.poster.PostRoot(ctx, root, room, RenderDiscussion(c.Item))
		case "answered":
			if c.Answer == nil {
				continue
			}
			err = r.poster.PostInThread(ctx, fmt.Sprintf("gh:answer:%s:%s:%d", room, item, c.Answer.ID), room, root, RenderAnswer(c))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// review adds a line about a review request or verdict in the thread of a
// pull request the room was told about (and says nothing of others).
func (r *Relay) review(ctx context.Context, c Change) error {
	rv := c.Review
	for room, mode := range RouteEvent(r.subs, c.Item, config.EventReviews) {
		root := rootKey(room, c.Item.Key())
		posted, err := r.poster.Posted(ctx, root)
		if err != nil {
			return err
		}
		if mode != Show || !posted || r.noThreads(room) {
			continue
		}
		key := fmt.Sprintf("gh:review:%s:%s:%s:%s:%d", room, c.Item.Key(), rv.State, strings.ToLower(rv.Who), rv.ID)
		if err := r.poster.PostInThread(ctx, key, room, root, RenderReview(c)); err != nil {
			return err
		}
	}
	return nil
}
