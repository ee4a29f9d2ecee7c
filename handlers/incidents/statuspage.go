package incidents

import (
	"encoding/json"
	"fmt"
	"time"
)

// Incident is a Statuspage incident or scheduled maintenance, as the
// public v2 API describes it.
type Incident struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Status     string     `json:"status"` // investigating, identified, monitoring, resolved, postmortem; maintenances: scheduled, in_progress, verifying, completed
	Impact     string     `json:"impact"` // none, minor, major, critical
	Shortlink  string     `json:"shortlink"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// ScheduledFor and ScheduledUntil are a maintenance's window.
	ScheduledFor   *time.Time  `json:"scheduled_for"`
	ScheduledUntil *time.Time  `json:"scheduled_until"`
	Components     []Component `json:"components"`
	Updates        []Update    `json:"incident_updates"`
}

// Component is a part of the service a page reports on.
type Component struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`          // operational, degraded_performance, partial_outage, major_outage, under_maintenance
	Group  bool   `json:"group,omitempty"` // a heading that holds other components
}

// Update is one of an incident's updates.
type Update struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Summary is /api/v2/summary.json: the components' states, the open
// incidents and the maintenances under way.
type Summary struct {
	Components            []Component `json:"components"`
	Incidents             []Incident  `json:"incidents"`
	ScheduledMaintenances []Incident  `json:"scheduled_maintenances"`
}

// maxItems bounds the incidents or components one answer may list.
const maxItems = 500

// ParseIncidents reads /api/v2/incidents.json or
// /api/v2/scheduled-maintenances.json.
func ParseIncidents(body []byte) ([]Incident, error) {
	var doc struct {
		Incidents             []Incident `json:"incidents"`
		ScheduledMaintenances []Incident `json:"scheduled_maintenances"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("not a Statuspage incidents answer: %w", err)
	}
	all := append(doc.Incidents, doc.ScheduledMaintenances...)
	if len(all) > maxItems {
		all = all[:maxItems]
	}
	for _, in := range all {
		if in.ID == "" {
			return nil, fmt.Errorf("a Statuspage incident without an id (%q)", in.Name)
		}
	}
	return all, nil
}

// ParseSummary reads /api/v2/summary.json.
func ParseSummary(body []byte) (Summary, error) {
	var s Summary
	if err := json.Unmarshal(body, &s); err != nil {
		return Summary{}, fmt.Errorf("not a Statuspage summary: %w", err)
	}
	if len(s.Components) > maxItems {
		s.Components = s.Components[:maxItems]
	}
	return s, nil
}
