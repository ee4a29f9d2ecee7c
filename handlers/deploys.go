package handlers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/safe"
)

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

// DeployWatcher tells rooms when a component's production commit changes.
// The last commit seen is stored, so a restart announces nothing twice, and
// the very first check only records.
type DeployWatcher struct {
	Catalog    *catalog.Catalog
	Deploys    Deployments
	Compare    Comparisons
	Store      KV
	Poster     Poster
	Rooms      []string
	Interval   time.Duration
	MaxChanges int
	Log        zerolog.Logger
	Now        func() time.Time // default time.Now

	state health.State
}

// Health says how the last deploy check went, for !status.
func (w *DeployWatcher) Health() health.Report {
	return w.state.Report("deploy announcements", "not checked yet")
}

func (w *DeployWatcher) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

// Run checks at once and then every Interval until ctx ends.
func (w *DeployWatcher) Run(ctx context.Context) error {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		err := w.checkSafely(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			w.Log.Warn().Err(err).Msg("Deploy check failed; will try again")
			w.state.Failing(err.Error(), w.now())
		default:
			w.state.Working(fmt.Sprintf("checking %d components every %s", len(w.Catalog.Services()), w.Interval), w.now())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// checkSafely checks; a panic (a bug) fails this check, not the bot.
func (w *DeployWatcher) checkSafely(ctx context.Context) error {
	return safe.Call(w.Log, "The deploy check crashed", func() error { return w.Check(ctx) })
}

// Check compares every component's production commit with the last one
// seen and announces changes.
func (w *DeployWatcher) Check(ctx context.Context) error {
	var errs []error
	for _, comp := range w.Catalog.Services() {
		if err := w.checkOne(ctx, comp); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", comp.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (w *DeployWatcher) checkOne(ctx context.Context, comp *catalog.Component) error {
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
	key := "prodhash.seen." + comp.ID
	prev, known, err := w.Store.Get(ctx, key)
	if err != nil {
		return err
	}
	if prev == dep.SHA {
		return nil
	}
	if known {
		cmp, err := w.Compare.Compare(ctx, comp.Repo, prev, dep.SHA)
		if err != nil {
			w.Log.Warn().Err(err).Str("component", comp.ID).Msg("Comparing the deploy failed; announcing without details")
		}
		reply := RenderDeploy(comp, prev, dep.SHA, cmp, w.MaxChanges)
		for _, room := range w.Rooms {
			if err := w.Poster.Post(ctx, "deploy:"+comp.ID+":"+dep.SHA+":"+room, room, reply); err != nil {
				return err
			}
		}
		w.Log.Info().Str("component", comp.ID).Str("from", prev).Str("to", dep.SHA).Msg("Deploy announced")
	}
	return w.Store.Put(ctx, key, dep.SHA)
}

// RenderDeploy is the announcement of one deploy.
func RenderDeploy(comp *catalog.Component, from, to string, cmp *prodhash.Comparison, maxChanges int) bot.Reply {
	m := new(bot.Msg).Bold(comp.Name+" deployed").Text(": ").
		Link(short(from), "https://github.com/"+comp.Repo+"/commit/"+from).Text(" → ").
		Link(short(to), "https://github.com/"+comp.Repo+"/commit/"+to)
	if cmp == nil {
		return m.Text(".").Reply()
	}
	m.Textf(", %s. ", plural(cmp.Behind, "commit")).Link("Compare", cmp.URL)
	merged := cmp.Merged()
	for i, c := range merged {
		if i == maxChanges {
			m.Line().Textf("…and %d more", len(merged)-maxChanges)
			break
		}
		m.Line().Text("• ").Link(fmt.Sprintf("#%d", c.PR), fmt.Sprintf("https://github.com/%s/pull/%d", comp.Repo, c.PR)).Text(" " + c.Title)
	}
	return m.Reply()
}
