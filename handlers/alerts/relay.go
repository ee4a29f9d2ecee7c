package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Store is what the relay keeps: the notifications to handle and each
// group's state.
type Store interface {
	PendingAlerts(ctx context.Context, limit int) ([]store.AlertNotice, error)
	AlertDone(ctx context.Context, id string) error
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Poster sends the relay's messages, idempotent by key.
type Poster interface {
	PostRoot(ctx context.Context, key, room string, r bot.Reply) error
	Edit(ctx context.Context, key, room, targetKey string, r bot.Reply) error
	PostInThread(ctx context.Context, key, room, rootKey string, r bot.Reply) error
}

// Relay turns notifications into one message per group, edited as its
// alerts fire and resolve, with a thread line per change.
type Relay struct {
	Store  Store
	Poster Poster
	Scope  *Scope // which rooms get which groups
	Log    zerolog.Logger
	Now    func() time.Time

	once  sync.Once
	wake  chan struct{}
	state health.State
}

// Health says how the relay fares, for !status.
func (r *Relay) Health() health.Report { return r.state.Report("alerts", "no notification yet") }

// Wake tells the relay a notification waits.
func (r *Relay) Wake() {
	select {
	case r.wakeCh() <- struct{}{}:
	default:
	}
}

func (r *Relay) wakeCh() chan struct{} {
	r.once.Do(func() { r.wake = make(chan struct{}, 1) })
	return r.wake
}

// Run handles notifications as they are recorded (and every few seconds,
// for those another replica recorded) until ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Alerts relay", Interval: 2 * time.Second, Retry: backoff.Policy{Min: time.Second, Max: time.Minute},
		Wake: r.wakeCh(), Health: &r.state, Now: r.Now, Log: r.Log,
		Round: func(ctx context.Context) (string, error) { return "relaying Alertmanager's notifications", r.Step(ctx) },
	}
	return loop.Run(ctx)
}

// groupState is what the room was last told of a group: each alert's
// status by fingerprint, and how many changes were announced.
type groupState struct {
	Alerts  map[string]string `json:"alerts"`
	Changes int               `json:"changes"`
}

// firingKey keeps the groups firing now, for !alerts.
const firingKey = "alerts.firing"

// Firing is a group that fires, as !alerts lists it.
type Firing struct {
	Name     string    `json:"name"`
	Severity string    `json:"severity"`
	Summary  string    `json:"summary"`
	Alerts   int       `json:"alerts"`
	Rooms    []string  `json:"rooms"`
	Since    time.Time `json:"since"`
}

// Step handles the notifications waiting, oldest first.
func (r *Relay) Step(ctx context.Context) error {
	notices, err := r.Store.PendingAlerts(ctx, 50)
	if err != nil {
		return err
	}
	for _, n := range notices {
		if err := r.handle(ctx, n); err != nil {
			return fmt.Errorf("notification %s: %w", n.ID, err)
		}
		if err := r.Store.AlertDone(ctx, n.ID); err != nil {
			return err
		}
	}
	return nil
}

func (r *Relay) handle(ctx context.Context, n store.AlertNotice) error {
	g, err := Parse(n.Body)
	if err != nil {
		r.Log.Warn().Err(err).Str("notice", n.ID).Msg("Skipping a recorded notification that does not read")
		return nil
	}
	id := groupID(g.GroupKey)
	key := "alerts.group." + id
	var st groupState
	raw, found, err := r.Store.Get(ctx, key)
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal([]byte(raw), &st); err != nil {
			return err
		}
	}
	changes := st.changes(g)
	if found && len(changes) == 0 {
		return nil // a repeat_interval resend: nothing new for the room
	}
	for _, room := range roomsFor(r.Scope, g) {
		if err := r.tell(ctx, id, room, g, found, st.Changes, changes); err != nil {
			return err
		}
	}
	if err := r.noteFiring(ctx, id, g); err != nil {
		return err
	}
	st.Changes += len(changes)
	st.Alerts = map[string]string{}
	for _, a := range g.Alerts {
		st.Alerts[a.Fingerprint] = a.Status
	}
	b, _ := json.Marshal(st)
	return r.Store.Put(ctx, key, string(b))
}

// tell posts a group's message in a room, or edits it and adds a thread
// line per change. Keys make a retry post nothing twice.
func (r *Relay) tell(ctx context.Context, id, room string, g Group, posted bool, done int, changes []string) error {
	root := "alert:" + id + ":" + room
	if !posted {
		return r.Poster.PostRoot(ctx, root, room, Render(g))
	}
	if err := r.Poster.Edit(ctx, fmt.Sprintf("%s:edit:%d", root, done+len(changes)), room, root, Render(g)); err != nil {
		return err
	}
	for i, c := range changes {
		if err := r.Poster.PostInThread(ctx, fmt.Sprintf("%s:line:%d", root, done+i+1), room, root, bot.TextReply("%s", c)); err != nil {
			return err
		}
	}
	return nil
}

// changes are what happened to a group's alerts since st: each fired or
// resolved, in fingerprint order.
func (st groupState) changes(g Group) []string {
	var out []string
	alerts := slices.Clone(g.Alerts)
	slices.SortFunc(alerts, func(a, b Alert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
	for _, a := range alerts {
		if st.Alerts[a.Fingerprint] == a.Status {
			continue
		}
		if a.Status == "resolved" {
			out = append(out, "✓ resolved: "+a.title(g))
		} else {
			out = append(out, "🔥 firing: "+a.title(g))
		}
	}
	return out
}

// groupID names a group in keys: its key is long and full of quotes.
func groupID(groupKey string) string {
	sum := sha256.Sum256([]byte(groupKey))
	return hex.EncodeToString(sum[:8])
}

// noteFiring keeps the list of groups firing now up to date.
func (r *Relay) noteFiring(ctx context.Context, id string, g Group) error {
	all, err := FiringNow(ctx, r.Store)
	if err != nil {
		return err
	}
	if n := g.firing(); n > 0 && g.Status == "firing" {
		f := all[id]
		if f.Since.IsZero() {
			f.Since = earliest(g)
		}
		f.Name, f.Severity, f.Summary, f.Alerts, f.Rooms = g.name(), g.CommonLabels["severity"], g.CommonAnnotations["summary"], n, roomsFor(r.Scope, g)
		all[id] = f
	} else {
		delete(all, id)
	}
	b, _ := json.Marshal(all)
	return r.Store.Put(ctx, firingKey, string(b))
}

// FiringNow reads the groups firing now, by group id.
func FiringNow(ctx context.Context, st interface {
	Get(ctx context.Context, key string) (string, bool, error)
}) (map[string]Firing, error) {
	all := map[string]Firing{}
	raw, ok, err := st.Get(ctx, firingKey)
	if err != nil || !ok {
		return all, err
	}
	return all, json.Unmarshal([]byte(raw), &all)
}

func earliest(g Group) time.Time {
	var t time.Time
	for _, a := range g.Alerts {
		if a.Status == "firing" && (t.IsZero() || a.StartsAt.Before(t)) {
			t = a.StartsAt
		}
	}
	return t
}
