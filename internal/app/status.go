package app

import (
	"context"
	"time"

	"github.com/osbuild/ibbot/config"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/statuspage"
)

// startStatusPage serves the public status page on its own listener
// (never the one with /metrics) when status.listen is set.
func startStatusPage(s *services, cfg config.Status, k *knowledge, followed func(context.Context) *statuspage.Incidents, meet *meetingParts,
	reviews *ghrelay.Queue) {
	if cfg.Listen == "" {
		return
	}
	page := &statuspage.Page{
		Source: &statuspage.Source{Catalog: k.Catalog, Deploys: k.Deployments, Compare: k.Comparisons, History: k.History,
			Health: s.board.Reports, Incidents: followed, Reviews: reviewFigures(reviews), Now: s.now},
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

// reviewFigures is the status page's view of the review queue.
func reviewFigures(q *ghrelay.Queue) func(context.Context) []statuspage.ReviewFigure {
	if q == nil {
		return nil
	}
	return func(ctx context.Context) []statuspage.ReviewFigure {
		figs, err := q.Figures(ctx)
		if err != nil {
			return nil
		}
		out := make([]statuspage.ReviewFigure, 0, len(figs))
		for _, f := range figs {
			r := statuspage.ReviewFigure{Repo: f.Repo, ReviewedIn90Days: f.Reviews, WaitingNow: f.Waiting}
			if f.Reviews > 0 {
				secs := int64(f.Median / time.Second)
				r.MedianFirstReviewS = &secs
			}
			out = append(out, r)
		}
		return out
	}
}
