package app

import (
	"context"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/statuspage"
)

// startStatusPage serves the public status page on its own listener
// (never the one with /metrics) when status.listen is set.
func startStatusPage(s *services, cfg config.Status, k *knowledge, followed func(context.Context) *statuspage.Incidents, meet *meetingParts) {
	if cfg.Listen == "" {
		return
	}
	page := &statuspage.Page{
		Source: &statuspage.Source{Catalog: k.Catalog, Deploys: k.Deployments, Compare: k.Comparisons, History: k.History,
			Health: s.board.Reports, Incidents: followed, Now: s.now},
		Diagram: k.Diagram, Title: k.Catalog.Project + " hosted service",
		Log: s.log.With().Str("component", "status-page").Logger(),
	}
	mux := page.Handler()
	if meet != nil && meet.pages != nil {
		meet.pages.Register(mux)
		page.Links = append(page.Links, statuspage.Link{Text: "Meetings and their minutes", Href: "meetings/"})
	}
	srv := ops.NewPlain(mux, s.log.With().Str("component", "status-page").Logger())
	s.goRun(func(ctx context.Context) error { return srv.Serve(ctx, cfg.Listen) })
}
