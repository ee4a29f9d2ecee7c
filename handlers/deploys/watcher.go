package deploys

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Deployments tells which commit of a component runs in production.
type Deployments interface {
	Get(ctx context.Context, comp *catalog.Component) (prodhash.Deployment, error)
}

// Comparisons tells how far a commit is behind a branch.
type Comparisons interface {
	Compare(ctx context.Context, repo, base, head string) (*prodhash.Comparison, error)
}

// Poster queues an announcement for a room (id or alias). The key makes it
// idempotent: the same key is posted at most once, even across restarts.
type Poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
}

// KV keeps small values between runs.
type KV interface {
	Get(ctx context.Context, key string) (string, bool, error)
	Put(ctx context.Context, key, value string) error
}

// Watcher tells rooms when a component's production commit changes.
// The last commit seen is stored, so a restart announces nothing twice, and
// the very first check only records.
type Watcher struct {
	Catalog *catalog.Catalog
	Deploys Deployments
	Compare Comparisons
	Store   KV
	History Recorder // nil: no deploy history
	Poster  Poster
	Rooms   []string
	// RoomsNow, when set, gives the rooms at each deploy instead (the
	// config's, as rooms turned announcements on or off in chat).
	RoomsNow   func() []string
	Interval   time.Duration
	MaxChanges int
	Log        zerolog.Logger
	Now        func() time.Time // default time.Now

	state health.State
}

// Recorder keeps the history of deploys (for !deploys).
type Recorder interface {
	RecordDeploy(ctx context.Context, d store.DeployRow) error
}

// Health says how the last deploy check went, for !status.
func (w *Watcher) Health() health.Report {
	return w.state.Report("deploy announcements", "not checked yet")
}

func (w *Watcher) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

// Run checks at once and then every Interval until ctx ends; a failed
// check is tried again sooner.
func (w *Watcher) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Deploy check", Interval: w.Interval, Retry: backoff.Policy{Min: 10 * time.Second, Max: w.Interval},
		Health: &w.state, Now: w.now, Log: w.Log,
		Round: func(ctx context.Context) (string, error) {
			return fmt.Sprintf("checking %d components every %s", len(w.Catalog.Services()), w.Interval), w.Check(ctx)
		},
	}
	return loop.Run(ctx)
}

// Check compares every component's production commit with the last one
// seen and announces changes. It revalidates every cached document first
// (a conditional request each), so it never announces from stale data.
func (w *Watcher) Check(ctx context.Context) error {
	ctx = prodhash.Revalidating(ctx)
	var errs []error
	for _, comp := range w.Catalog.Services() {
		if err := w.checkOne(ctx, comp); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", comp.ID, err))
		}
	}
	return errors.Join(errs...)
}

// deployState is the last deploy seen of a component: its number (the
// count of deploys announced so far) and commit. The number is part of the
// announcement's key, so A → B → A announces the return to A too.
type deployState struct {
	N   int
	SHA string
}

func (w *Watcher) loadState(ctx context.Context, compID string) (deployState, bool, error) {
	raw, known, err := w.Store.Get(ctx, "prodhash.seen."+compID)
	if err != nil || !known {
		return deployState{}, known, err
	}
	// Older versions stored the bare sha.
	if n, sha, ok := strings.Cut(raw, " "); ok {
		num, err := strconv.Atoi(n)
		if err == nil {
			return deployState{N: num, SHA: sha}, true, nil
		}
	}
	return deployState{SHA: raw}, true, nil
}

func (w *Watcher) saveState(ctx context.Context, compID string, st deployState) error {
	return w.Store.Put(ctx, "prodhash.seen."+compID, fmt.Sprintf("%d %s", st.N, st.SHA))
}

func (w *Watcher) checkOne(ctx context.Context, comp *catalog.Component) error {
	dep, err := w.Deploys.Get(ctx, comp)
	if errors.Is(err, prodhash.ErrNoHash) {
		return nil
	}
	if err != nil {
		return err
	}
	if dep.Stale {
		return nil // a stale value is an old value: nothing new to say
	}
	prev, known, err := w.loadState(ctx, comp.ID)
	if err != nil || prev.SHA == dep.SHA {
		return err
	}
	next := deployState{N: prev.N + 1, SHA: dep.SHA}
	if known {
		reply, row := w.describe(ctx, comp, prev.SHA, dep.SHA)
		row.Component, row.Number, row.SeenAt = comp.ID, next.N, w.now()
		if row.LeadKnown {
			row.Lead = row.SeenAt.Sub(row.oldest)
		}
		if w.History != nil {
			if err := w.History.RecordDeploy(ctx, row.DeployRow); err != nil {
				return err
			}
		}
		rooms := w.Rooms
		if w.RoomsNow != nil {
			rooms = w.RoomsNow()
		}
		for _, room := range rooms {
			key := fmt.Sprintf("deploy:%s:%d:%s:%s", comp.ID, next.N, dep.SHA, room)
			if err := w.Poster.Post(ctx, key, room, reply); err != nil {
				return err
			}
		}
		w.Log.Info().Str("component", comp.ID).Str("from", prev.SHA).Str("to", dep.SHA).Int("deploy", next.N).Msg("Deploy announced")
	}
	return w.saveState(ctx, comp.ID, next)
}

// deployFacts is what the history keeps of a deploy, and when its oldest
// newly deployed commit was made (for the lead time).
type deployFacts struct {
	store.DeployRow
	oldest time.Time
}

// describe renders a deploy from one commit to another: forward with the
// changes it brings, or a rollback with the changes it takes out; and
// returns the facts the history keeps.
func (w *Watcher) describe(ctx context.Context, comp *catalog.Component, from, to string) (bot.Reply, deployFacts) {
	facts := deployFacts{DeployRow: store.DeployRow{From: from, To: to, Commits: -1, Changes: "[]"}}
	cmp, err := w.Compare.Compare(ctx, comp.Repo, from, to)
	if err != nil {
		w.Log.Warn().Err(err).Str("component", comp.ID).Msg("Comparing the deploy failed; announcing without details")
		return RenderDeploy(comp, from, to, nil, w.MaxChanges), facts
	}
	if cmp.Behind > 0 || cmp.Removed == 0 {
		facts.Commits, facts.Changes = cmp.Behind, changesJSON(cmp.Merged())
		if len(cmp.Pending) > 0 && !cmp.Pending[0].Date.IsZero() {
			facts.oldest, facts.LeadKnown = cmp.Pending[0].Date, true
		}
		return RenderDeploy(comp, from, to, cmp, w.MaxChanges), facts
	}
	facts.Rollback, facts.Commits = true, cmp.Removed
	undone, err := w.Compare.Compare(ctx, comp.Repo, to, from)
	if err != nil {
		w.Log.Warn().Err(err).Str("component", comp.ID).Msg("Listing what a rollback undoes failed")
		undone = nil
	} else {
		facts.Changes = changesJSON(undone.Merged())
	}
	return RenderRollback(comp, from, to, cmp.Removed, undone, w.MaxChanges), facts
}
