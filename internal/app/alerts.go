package app

import (
	"net/http"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/alerts"
)

// startAlerts runs Alertmanager's receiver when configured: the webhook
// on every replica (it records), the relay on the leader.
func startAlerts(s *services, cfg config.Alerts, mux *http.ServeMux) {
	if cfg.Webhook.Path == "" {
		return
	}
	log := s.log.With().Str("component", "alerts").Logger()
	relay := &alerts.Relay{Store: s.store, Poster: s.bot, Scope: s.routes.alerts, Log: log, Now: s.now}
	mux.Handle(cfg.Webhook.Path, &alerts.Webhook{Token: cfg.Webhook.Token.Value(), Store: s.store, MaxBody: int64(cfg.Webhook.MaxBody),
		Wake: relay.Wake, Now: s.now, Log: log})
	s.board.Add(relay)
	s.afterReady(relay.Run)
}

// alertRoutes are the config's routes as the alerts' scope takes them.
func alertRoutes(cfg config.Alerts) []alerts.Route {
	routes := make([]alerts.Route, 0, len(cfg.Routes))
	for _, r := range cfg.Routes {
		routes = append(routes, alerts.Route{Rooms: r.Rooms, Filter: alerts.Filter{Match: r.Match, Exclude: r.Exclude}})
	}
	return routes
}
