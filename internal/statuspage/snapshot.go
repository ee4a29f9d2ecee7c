// Package statuspage serves the architecture page made live: the published
// diagram (made safe) with each component's box annotated with the commit
// it runs in production, a table of the same, the latest deploys with their
// lead times, and how the relays are doing; and the same data as JSON. It
// is public-safe: no metrics, no admin data, no error details, nothing
// secret. It reads the same knowledge !hash and !deploys use.
package statuspage

import (
	"context"
	"sync"
	"time"

	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/diagram"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/store"
)

// Small interfaces, declared where used.
type (
	// Deployments names each component's production commit.
	Deployments interface {
		Get(ctx context.Context, comp *catalog.Component) (prodhash.Deployment, error)
	}
	// Comparisons says how far a commit is behind a branch.
	Comparisons interface {
		Compare(ctx context.Context, repo, base, head string) (*prodhash.Comparison, error)
	}
	// Diagram is the published architecture diagram.
	Diagram interface {
		Diagram(ctx context.Context) (*diagram.Diagram, int, error)
	}
	// History is the deploys seen.
	History interface {
		Deploys(ctx context.Context, component string, since time.Time, limit int) ([]store.DeployRow, error)
	}
)

// Snapshot is what the page shows, and /status.json's shape (version 1).
type Snapshot struct {
	Version     int         `json:"version"`
	GeneratedAt time.Time   `json:"generated_at"`
	Components  []Component `json:"components"`
	Deploys     []Deploy    `json:"deploys"`
	Relays      []Relay     `json:"relays"`
	// Incidents is the Statuspage page followed, absent when none is.
	Incidents *Incidents `json:"incidents,omitempty"`
	// Reviews are, per repository, how quickly outside contributions get
	// a first review ("eagerly reviewed", measured).
	Reviews []ReviewFigure `json:"reviews,omitempty"`
	// DiagramStaleSince is set while the diagram cannot be fetched (the
	// page shows the last one).
	DiagramStaleSince *time.Time `json:"diagram_stale_since,omitempty"`
}

// Component is one service component in production.
type Component struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Repo       string     `json:"repo"`
	SHA        string     `json:"sha,omitempty"`
	Short      string     `json:"short,omitempty"`
	CommitURL  string     `json:"commit_url,omitempty"`
	CommitDate *time.Time `json:"commit_date,omitempty"`
	Behind     *int       `json:"behind,omitempty"` // commits on the branch not deployed; absent: unknown
	Source     string     `json:"source,omitempty"`
	AsOf       *time.Time `json:"as_of,omitempty"`
	StaleSince *time.Time `json:"stale_since,omitempty"` // set when the source failed and this is the last good value
	anchor     string
}

// Deploy is one deploy seen.
type Deploy struct {
	Component   string    `json:"component"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	SeenAt      time.Time `json:"seen_at"`
	Rollback    bool      `json:"rollback"`
	Commits     int       `json:"commits"` // -1: unknown
	LeadSeconds *int64    `json:"lead_seconds,omitempty"`
}

// Incidents is what the Statuspage page followed showed at its last look,
// of the components followed.
type Incidents struct {
	Page         string              `json:"page"`
	AsOf         time.Time           `json:"as_of"`
	Components   []IncidentComponent `json:"components"`
	Open         []Incident          `json:"open"`
	Maintenances []Incident          `json:"maintenances"`
}

// IncidentComponent is a component's state on the page: operational,
// degraded_performance, partial_outage, major_outage, under_maintenance.
type IncidentComponent struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Incident is an open incident or a maintenance ahead or under way.
type Incident struct {
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	Impact       string     `json:"impact"`
	Link         string     `json:"link"`
	Since        time.Time  `json:"since"`
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
	Until        *time.Time `json:"until,omitempty"`
	Latest       string     `json:"latest,omitempty"`
}

// ReviewFigure is a repository's: the median time outside pull requests
// opened in the last 90 days took to a first review or maintainer's
// comment, how many of them got one, and how many wait longer than the
// queue's wait now.
type ReviewFigure struct {
	Repo               string `json:"repo"`
	MedianFirstReviewS *int64 `json:"median_first_review_seconds,omitempty"` // absent: none reviewed yet
	ReviewedIn90Days   int    `json:"reviewed_in_90_days"`
	WaitingNow         int    `json:"waiting_now"`
}

// Relay is how one long-running part is doing, without details.
type Relay struct {
	Part string `json:"part"`
	OK   bool   `json:"ok"`
	// State is "working", "failing", "starting" (has not run yet) or
	// "not permitted" (it works, but a room does not let it do
	// everything: a setting of that room, not a fault).
	State string     `json:"state"`
	Since *time.Time `json:"since,omitempty"` // when the state began; absent: unknown
}

// Relay states.
const (
	StateWorking      = "working"
	StateFailing      = "failing"
	StateStarting     = "starting"
	StateNotPermitted = "not permitted"
)

func relayOf(r health.Report) Relay {
	out := Relay{Part: r.Part, OK: r.OK, State: StateWorking}
	switch {
	case r.OK && r.NotAllowed:
		out.State = StateNotPermitted
	case !r.OK && r.Since.IsZero():
		out.State = StateStarting
	case !r.OK:
		out.State = StateFailing
	}
	if !r.Since.IsZero() {
		since := r.Since.UTC()
		out.Since = &since
	}
	return out
}

// Source gathers snapshots, reusing one for a short while: a busy page
// costs the sources nothing extra.
type Source struct {
	Catalog *catalog.Catalog
	Deploys Deployments
	Compare Comparisons
	History History // may be nil
	Health  func() []health.Report
	// Incidents reads the Statuspage page followed; nil, or nil returned:
	// none (yet).
	Incidents func(ctx context.Context) *Incidents
	// Reviews reads the review figures; nil: none.
	Reviews func(ctx context.Context) []ReviewFigure
	Now     func() time.Time
	Reuse   time.Duration // how long a snapshot is served again; default 15s

	mu     sync.Mutex
	last   *Snapshot
	lastAt time.Time
}

// Snapshot returns the current state.
func (s *Source) Snapshot(ctx context.Context) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	reuse := s.Reuse
	if reuse <= 0 {
		reuse = 15 * time.Second
	}
	if s.last != nil && s.Now().Sub(s.lastAt) < reuse {
		return s.last
	}
	snap := &Snapshot{Version: 1, GeneratedAt: s.Now().UTC()}
	for _, comp := range s.Catalog.Services() {
		snap.Components = append(snap.Components, s.component(ctx, comp))
	}
	snap.Deploys = s.deploys(ctx)
	if s.Health != nil {
		for _, r := range s.Health() {
			snap.Relays = append(snap.Relays, relayOf(r))
		}
	}
	if s.Incidents != nil {
		snap.Incidents = s.Incidents(ctx)
	}
	if s.Reviews != nil {
		snap.Reviews = s.Reviews(ctx)
	}
	s.last, s.lastAt = snap, s.Now()
	return snap
}

func (s *Source) component(ctx context.Context, comp *catalog.Component) Component {
	c := Component{ID: comp.ID, Name: comp.Name, Repo: comp.Repo, anchor: comp.DiagramAnchor}
	dep, err := s.Deploys.Get(ctx, comp)
	if err != nil || dep.SHA == "" {
		return c
	}
	c.SHA, c.Short, c.Source = dep.SHA, dep.SHA[:min(7, len(dep.SHA))], dep.Source
	c.CommitURL = "https://github.com/" + comp.Repo + "/commit/" + dep.SHA
	if !dep.AsOf.IsZero() {
		asOf := dep.AsOf.UTC()
		c.AsOf = &asOf
	}
	if dep.Stale {
		since := dep.CheckedAt.UTC()
		c.StaleSince = &since
	}
	if cmp, err := s.Compare.Compare(ctx, comp.Repo, dep.SHA, comp.Branch); err == nil {
		behind := cmp.Behind
		c.Behind = &behind
		if !cmp.Base.Date.IsZero() {
			date := cmp.Base.Date.UTC()
			c.CommitDate = &date
		}
	}
	return c
}

// nameOf is a component's name ("image-builder-composer") from its id,
// as the rest of the page names it.
func (s *Source) nameOf(id string) string {
	if c, ok := s.Catalog.Find(id); ok {
		return c.Name
	}
	return id
}

func (s *Source) deploys(ctx context.Context) []Deploy {
	if s.History == nil {
		return nil
	}
	rows, err := s.History.Deploys(ctx, "", s.Now().Add(-30*24*time.Hour), 10)
	if err != nil {
		return nil
	}
	out := make([]Deploy, 0, len(rows))
	for _, r := range rows {
		d := Deploy{Component: s.nameOf(r.Component), From: r.From, To: r.To, SeenAt: r.SeenAt.UTC(), Rollback: r.Rollback, Commits: r.Commits}
		if r.LeadKnown && !r.Rollback {
			secs := int64(r.Lead.Seconds())
			d.LeadSeconds = &secs
		}
		out = append(out, d)
	}
	return out
}
