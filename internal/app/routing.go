package app

import (
	"context"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/alerts"
	"github.com/osbuild/ibbot/handlers/incidents"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/roomscope"
)

// routing is which rooms get what, for the sources whose scope is not
// part of a larger whole (GitHub's lives in githubParts): each a
// roomscope.Scope, so the config, the rooms' choices in chat and their
// mutes are laid over each other in one place and move with a room.
type routing struct {
	lists     *mail.Lists
	alerts    *alerts.Scope
	incidents *incidents.Scope
}

func newRouting(ctx context.Context, cfg *config.Config, reg *roomscope.Registry) (*routing, error) {
	lists, err := roomscope.Add(ctx, reg, mail.Source(cfg.Mail))
	if err != nil {
		return nil, err
	}
	alertScope, err := roomscope.Add(ctx, reg, alerts.Source(alertRoutes(cfg.Alerts)))
	if err != nil {
		return nil, err
	}
	incidentScope, err := roomscope.Add(ctx, reg, incidents.Source(cfg.Incidents.Rooms))
	if err != nil {
		return nil, err
	}
	return &routing{lists: lists, alerts: alertScope, incidents: incidentScope}, nil
}
