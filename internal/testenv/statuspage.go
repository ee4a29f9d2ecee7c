package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"
)

// Statuspage is a loopback stand-in for an Atlassian Statuspage page
// (status.redhat.com is one): its public v2 API's incidents.json,
// scheduled-maintenances.json and summary.json, in the documented shape,
// built from the incidents a test opens, updates and resolves. It
// answers If-None-Match with 304, as the real page's CDN does.
type Statuspage struct {
	*httptest.Server

	mu         sync.Mutex
	now        func() time.Time
	components []spComponent
	incidents  []*spIncident // newest first, as the API lists them
	requests   int
	notMod     int
	seq        int
}

// The API's shapes, spelled as its documentation spells them (not the
// bot's own types, so a misread field shows).
type spComponent struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Group  bool   `json:"group"`
}

type spUpdate struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type spIncident struct {
	ID             string        `json:"id"`
	Name           string        `json:"name"`
	Status         string        `json:"status"`
	Impact         string        `json:"impact"`
	Shortlink      string        `json:"shortlink"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
	ResolvedAt     *time.Time    `json:"resolved_at"`
	ScheduledFor   *time.Time    `json:"scheduled_for"`
	ScheduledUntil *time.Time    `json:"scheduled_until"`
	PageID         string        `json:"page_id"`
	Components     []spComponent `json:"components"`
	Updates        []spUpdate    `json:"incident_updates"` // newest first
}

var spPage = map[string]any{"id": "dn6mqn7xvzz3", "name": "Red Hat", "url": "https://status.redhat.com", "time_zone": "Etc/UTC"}

// NewStatuspage starts the stand-in with the components named, all
// operational; now is its clock (nil: time.Now).
func NewStatuspage(now func() time.Time, components ...string) *Statuspage {
	if now == nil {
		now = time.Now
	}
	s := &Statuspage{now: now}
	s.components = append(s.components, spComponent{ID: "grp", Name: "Hosted services", Status: "operational", Group: true})
	for i, name := range components {
		s.components = append(s.components, spComponent{ID: fmt.Sprintf("c%d", i+1), Name: name, Status: "operational"})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/incidents.json", s.serve(func() any {
		return map[string]any{"page": spPage, "incidents": s.list(false)}
	}))
	mux.HandleFunc("GET /api/v2/scheduled-maintenances.json", s.serve(func() any {
		return map[string]any{"page": spPage, "scheduled_maintenances": s.list(true)}
	}))
	mux.HandleFunc("GET /api/v2/summary.json", s.serve(s.summary))
	s.Server = httptest.NewServer(mux)
	return s
}

// Open starts an incident (investigating) that puts the components named
// in partial outage, and returns its id.
func (s *Statuspage) Open(name, impact, body string, components ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.add(name, impact, "investigating", components, "partial_outage")
	s.update(in, "investigating", body)
	return in.ID
}

// Schedule plans a maintenance of the components named, and returns its
// id.
func (s *Statuspage) Schedule(name, body string, from, until time.Time, components ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.add(name, "maintenance", "scheduled", components, "")
	in.ScheduledFor, in.ScheduledUntil = &from, &until
	s.update(in, "scheduled", body)
	return in.ID
}

// Update adds an update; resolved or completed ends the incident and
// brings its components back to operational, in_progress puts a
// maintenance's under maintenance.
func (s *Statuspage) Update(id, status, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range s.incidents {
		if in.ID != id {
			continue
		}
		s.update(in, status, body)
		switch status {
		case "resolved", "completed":
			at := s.now().UTC()
			in.ResolvedAt = &at
			s.setComponents(in, "operational")
		case "in_progress":
			s.setComponents(in, "under_maintenance")
		}
		return
	}
	panic("testenv.Statuspage: no incident " + id)
}

// Requests counts the API requests, and those answered 304.
func (s *Statuspage) Requests() (all, notModified int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests, s.notMod
}

func (s *Statuspage) add(name, impact, status string, components []string, componentStatus string) *spIncident {
	s.seq++
	at := s.now().UTC()
	in := &spIncident{ID: fmt.Sprintf("inc%04d", s.seq), Name: name, Status: status, Impact: impact, CreatedAt: at, UpdatedAt: at, PageID: "dn6mqn7xvzz3"}
	in.Shortlink = fmt.Sprintf("https://stspg.io/%s", in.ID)
	for _, c := range s.components {
		if slices.Contains(components, c.Name) {
			in.Components = append(in.Components, c)
		}
	}
	if componentStatus != "" {
		s.setComponents(in, componentStatus)
	}
	s.incidents = append([]*spIncident{in}, s.incidents...)
	return in
}

func (s *Statuspage) update(in *spIncident, status, body string) {
	s.seq++
	at := s.now().UTC()
	in.Status, in.UpdatedAt = status, at
	in.Updates = append([]spUpdate{{ID: fmt.Sprintf("upd%04d", s.seq), Status: status, Body: body, CreatedAt: at, UpdatedAt: at}}, in.Updates...)
}

func (s *Statuspage) setComponents(in *spIncident, status string) {
	for i := range in.Components {
		in.Components[i].Status = status
		for j := range s.components {
			if s.components[j].ID == in.Components[i].ID {
				s.components[j].Status = status
			}
		}
	}
}

// list is the incidents (or the maintenances) as the API lists them.
// Called with s.mu held.
func (s *Statuspage) list(maintenances bool) []*spIncident {
	out := []*spIncident{}
	for _, in := range s.incidents {
		if (in.ScheduledFor != nil) == maintenances {
			out = append(out, in)
		}
	}
	return out
}

func (s *Statuspage) summary() any {
	var open, planned []*spIncident
	for _, in := range s.incidents {
		switch {
		case in.ScheduledFor != nil && in.Status != "completed":
			planned = append(planned, in)
		case in.ScheduledFor == nil && in.ResolvedAt == nil:
			open = append(open, in)
		}
	}
	status := map[string]string{"indicator": "none", "description": "All Systems Operational"}
	if len(open) > 0 {
		status = map[string]string{"indicator": open[0].Impact, "description": "Partial System Outage"}
	}
	return map[string]any{"page": spPage, "components": s.components, "incidents": nonNil(open),
		"scheduled_maintenances": nonNil(planned), "status": status}
}

func nonNil(l []*spIncident) []*spIncident {
	if l == nil {
		return []*spIncident{}
	}
	return l
}

// serve answers with the document body makes, and 304 when the client
// has it already.
func (s *Statuspage) serve(body func() any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		raw, err := json.Marshal(body())
		s.requests++
		sum := sha256.Sum256(raw)
		etag := `W/"` + hex.EncodeToString(sum[:8]) + `"`
		notMod := r.Header.Get("If-None-Match") == etag
		if notMod {
			s.notMod++
		}
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "max-age=0, private, must-revalidate")
		if notMod {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(raw)
	}
}
