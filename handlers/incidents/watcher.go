package incidents

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/worker"
)

// Page is the Statuspage page followed.
type Page interface {
	Read(ctx context.Context) (Reading, error)
}

// KV keeps what the rooms were told, between runs and across replicas.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Poster sends the watcher's messages, idempotent by key: a key is posted
// at most once, even across restarts.
type Poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
	PostRoot(ctx context.Context, key, room string, r bot.Reply) error
	Edit(ctx context.Context, key, room, targetKey string, r bot.Reply) error
	PostInThread(ctx context.Context, key, room, rootKey string, r bot.Reply) error
}

// Watcher follows a Statuspage page: a new incident touching a followed
// component is one message, each of its updates a line in the message's
// thread, and its resolution an edit of the message; a maintenance is
// announced when scheduled, reminded at its start and closed when
// completed. The first look records what the page shows without a word.
type Watcher struct {
	Page       Page
	Base       string // the page's address, for links the page does not give
	Store      KV
	Poster     Poster
	Rooms      func() []string
	Components []string // none: all
	Interval   time.Duration
	Log        zerolog.Logger
	Now        func() time.Time

	state health.State
}

const (
	primedKey = "incidents.primed"
	nowKey    = "incidents.now"
	seenKey   = "incidents.seen."
	// quiet is how old an incident's last update may be for it to be
	// news when the watcher first sees it (a component followed anew
	// brings its history with it, which is no news).
	quiet = 24 * time.Hour
)

// Health says how the last look at the page went, for !status.
func (w *Watcher) Health() health.Report { return w.state.Report("incidents", "not checked yet") }

// Run looks at once and then every Interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Incidents check", Interval: w.Interval, Retry: backoff.Policy{Min: 10 * time.Second, Max: w.Interval},
		Health: &w.state, Now: w.Now, Log: w.Log,
		Round: func(ctx context.Context) (string, error) {
			return fmt.Sprintf("following the status page every %s", w.Interval), w.Check(ctx)
		},
	}
	return loop.Run(ctx)
}

// seen is what the rooms were told of an incident.
type seen struct {
	Status  string   `json:"status"`
	Updates []string `json:"updates"` // ids of the updates told (or recorded silently)
	Told    bool     `json:"told"`    // its message was posted
	Rooms   []string `json:"rooms"`   // where it was posted
	Edits   int      `json:"edits"`
	Started bool     `json:"started"` // a maintenance's start was reminded (or is past)
}

// Check reads the page and tells the rooms what changed.
func (w *Watcher) Check(ctx context.Context) error {
	reading, err := w.Page.Read(ctx)
	if err != nil {
		return err
	}
	_, primed, err := w.Store.Get(ctx, primedKey)
	if err != nil {
		return err
	}
	now := w.Now()
	var list []Incident
	for _, in := range reading.Incidents {
		if !bot.SafeLink(in.Shortlink) {
			in.Shortlink = strings.TrimSuffix(w.Base, "/") + "/incidents/" + url.PathEscape(in.ID)
		}
		if in.Touches(w.Components) {
			list = append(list, in)
		}
	}
	slices.SortFunc(list, func(a, b Incident) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	for _, in := range list {
		if err := w.follow(ctx, in, primed, now); err != nil {
			return fmt.Errorf("incident %s: %w", in.ID, err)
		}
	}
	if err := w.keepNow(ctx, reading, list, now); err != nil {
		return err
	}
	if !primed {
		w.Log.Info().Int("incidents", len(list)).Msg("First look at the status page: recorded what it shows, announcing nothing")
		return w.Store.Put(ctx, primedKey, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// follow tells the rooms what is new of one incident since it was last
// seen. Every message has a key of its own, so a retry after a crash
// posts nothing twice; the state is saved after the messages.
func (w *Watcher) follow(ctx context.Context, in Incident, primed bool, now time.Time) error {
	st, known, err := w.load(ctx, in.ID)
	if err != nil {
		return err
	}
	if !primed || (!known && in.UpdatedAt.Before(now.Add(-quiet))) {
		return w.save(ctx, in.ID, silently(in, now))
	}
	news := st.newUpdates(in)
	starts := in.Maintenance() && !st.Started && in.startsBy(now) && !in.Over()
	changed := known && st.Status != in.Status
	if known && len(news) == 0 && !starts && !changed {
		return nil
	}
	root := func(room string) string { return "incident:" + in.ID + ":" + room }
	view := Render(in, now)
	switch {
	case !st.Told:
		st.Rooms, st.Told = w.Rooms(), true
		for _, room := range st.Rooms {
			if err := w.Poster.PostRoot(ctx, root(room), room, view); err != nil {
				return err
			}
		}
	case changed || starts:
		st.Edits++
		for _, room := range st.Rooms {
			if err := w.Poster.Edit(ctx, fmt.Sprintf("%s:edit:%d", root(room), st.Edits), room, root(room), view); err != nil {
				return err
			}
		}
		if starts {
			for _, room := range st.Rooms {
				if err := w.Poster.Post(ctx, root(room)+":starts", room, RenderStart(in)); err != nil {
					return err
				}
			}
		}
	}
	for _, u := range news {
		for _, room := range st.Rooms {
			if err := w.Poster.PostInThread(ctx, root(room)+":update:"+u.ID, room, root(room), RenderUpdate(u)); err != nil {
				return err
			}
		}
		st.Updates = append(st.Updates, u.ID)
	}
	st.Status, st.Started = in.Status, st.Started || in.startsBy(now)
	w.Log.Info().Str("incident", in.ID).Str("status", in.Status).Int("updates", len(news)).Msg("Incident told")
	return w.save(ctx, in.ID, st)
}

// silently is an incident recorded as it is, nothing told.
func silently(in Incident, now time.Time) seen {
	st := seen{Status: in.Status, Started: in.startsBy(now)}
	for _, u := range in.Updates {
		st.Updates = append(st.Updates, u.ID)
	}
	return st
}

// newUpdates are the incident's updates not told yet, oldest first.
func (st seen) newUpdates(in Incident) []Update {
	var out []Update
	for _, u := range in.Updates {
		if !slices.Contains(st.Updates, u.ID) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b Update) int { return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) })
	return out
}

func (w *Watcher) load(ctx context.Context, id string) (seen, bool, error) {
	raw, ok, err := w.Store.Get(ctx, seenKey+id)
	if err != nil || !ok {
		return seen{}, ok, err
	}
	var st seen
	return st, true, json.Unmarshal([]byte(raw), &st)
}

func (w *Watcher) save(ctx context.Context, id string, st seen) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return w.Store.Put(ctx, seenKey+id, string(b))
}

// Maintenance reports whether the incident is a scheduled maintenance.
func (in Incident) Maintenance() bool { return in.ScheduledFor != nil }

// Over reports whether the incident is resolved or the maintenance
// completed.
func (in Incident) Over() bool {
	switch in.Status {
	case "resolved", "postmortem", "completed":
		return true
	}
	return false
}

// startsBy reports whether a maintenance has begun by now: its window
// opened, or the page says it is under way.
func (in Incident) startsBy(now time.Time) bool {
	if !in.Maintenance() {
		return false
	}
	return !now.Before(*in.ScheduledFor) || in.Status == "in_progress" || in.Status == "verifying"
}
