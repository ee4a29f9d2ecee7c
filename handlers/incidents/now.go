package incidents

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Now is what the page showed at its last look, of the components
// followed: kept in the store for !incidents and the status page, which
// any replica serves.
type Now struct {
	Page         string      `json:"page"`
	AsOf         time.Time   `json:"as_of"`
	Components   []Component `json:"components"`
	Open         []Brief     `json:"open"`
	Maintenances []Brief     `json:"maintenances"` // scheduled or under way
	LastResolved *Brief      `json:"last_resolved,omitempty"`
}

// Brief is an incident in a few words.
type Brief struct {
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	Impact       string     `json:"impact"`
	Link         string     `json:"link"`
	Since        time.Time  `json:"since"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
	ScheduledFor *time.Time `json:"scheduled_for,omitempty"`
	Until        *time.Time `json:"until,omitempty"`
	Latest       string     `json:"latest,omitempty"` // the last update's words
	Components   []string   `json:"components,omitempty"`
}

// maxLatest bounds the last update's words kept.
const maxLatest = 400

func brief(in Incident) Brief {
	b := Brief{Name: in.Name, Status: in.Status, Impact: in.Impact, Link: in.Shortlink, Since: in.CreatedAt,
		ResolvedAt: in.ResolvedAt, ScheduledFor: in.ScheduledFor, Until: in.ScheduledUntil}
	if u, ok := in.latest(); ok {
		b.Latest = cut(u.Body, maxLatest)
	}
	for _, c := range in.Components {
		b.Components = append(b.Components, c.Name)
	}
	return b
}

// keepNow stores what the page shows now of the incidents followed.
func (w *Watcher) keepNow(ctx context.Context, r Reading, list []Incident, now time.Time) error {
	n := Now{Page: w.Base, AsOf: now.UTC(), Components: followed(r.Summary.Components, w.Components)}
	for _, in := range list {
		switch {
		case in.Over() && !in.Maintenance():
			if in.ResolvedAt != nil && (n.LastResolved == nil || in.ResolvedAt.After(*n.LastResolved.ResolvedAt)) {
				b := brief(in)
				n.LastResolved = &b
			}
		case in.Maintenance() && !in.Over():
			n.Maintenances = append(n.Maintenances, brief(in))
		case !in.Over():
			n.Open = append(n.Open, brief(in))
		}
	}
	slices.SortFunc(n.Maintenances, func(a, b Brief) int { return a.ScheduledFor.Compare(*b.ScheduledFor) })
	raw, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return w.Store.Put(ctx, nowKey, string(raw))
}

// ReadNow is what the page showed at its last look; false before the
// first.
func ReadNow(ctx context.Context, st interface {
	Get(ctx context.Context, key string) (string, bool, error)
}) (Now, bool, error) {
	raw, ok, err := st.Get(ctx, nowKey)
	if err != nil || !ok {
		return Now{}, false, err
	}
	var n Now
	return n, true, json.Unmarshal([]byte(raw), &n)
}

// latest is the incident's last update.
func (in Incident) latest() (Update, bool) {
	if len(in.Updates) == 0 {
		return Update{}, false
	}
	return slices.MaxFunc(in.Updates, func(a, b Update) int { return a.CreatedAt.Compare(b.CreatedAt) }), true
}
