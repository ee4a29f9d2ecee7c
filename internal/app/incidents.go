package app

import (
	"context"
	"net/http"
	"time"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/incidents"
	"github.com/osbuild/ibbot/internal/httpcache"
	"github.com/osbuild/ibbot/internal/statuspage"
)

// startIncidents follows the Statuspage page when one is configured: the
// watcher runs on the leader; what it saw is in the store for every
// replica's !incidents and status page.
func startIncidents(s *services, cfg config.Incidents) {
	if cfg.Statuspage == "" {
		return
	}
	feed := &incidents.Feed{Base: cfg.Statuspage, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: httpcache.New(nil, 8)}}
	w := &incidents.Watcher{Page: feed, Base: cfg.Statuspage, Store: s.store, Poster: s.bot,
		Rooms: incidents.Rooms(s.routes.incidents), Components: cfg.Components, Interval: cfg.PollInterval,
		Log: s.log.With().Str("component", "incidents").Logger(), Now: s.now}
	s.board.Add(w)
	s.afterReady(w.Run)
}

// pageIncidents is the status page's view of what the watcher saw.
func pageIncidents(s *services, cfg config.Incidents) func(context.Context) *statuspage.Incidents {
	if cfg.Statuspage == "" {
		return nil
	}
	return func(ctx context.Context) *statuspage.Incidents {
		n, ok, err := incidents.ReadNow(ctx, s.store)
		if err != nil || !ok {
			return nil
		}
		out := &statuspage.Incidents{Page: n.Page, AsOf: n.AsOf}
		for _, c := range n.Components {
			out.Components = append(out.Components, statuspage.IncidentComponent{Name: c.Name, Status: c.Status})
		}
		for _, b := range n.Open {
			out.Open = append(out.Open, pageIncident(b))
		}
		for _, b := range n.Maintenances {
			out.Maintenances = append(out.Maintenances, pageIncident(b))
		}
		return out
	}
}

func pageIncident(b incidents.Brief) statuspage.Incident {
	return statuspage.Incident{Name: b.Name, Status: b.Status, Impact: b.Impact, Link: b.Link, Since: b.Since,
		ScheduledFor: b.ScheduledFor, Until: b.Until, Latest: b.Latest}
}
