package app

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
)

// services is what every long-running part is started with: the bot it
// posts through, the store, where it reports (metrics, !status), the clock
// and the group that runs it until the bot stops.
type services struct {
	bot   *bot.Bot
	store *store.DB
	reg   *prometheus.Registry
	board *health.Board
	now   func() time.Time
	log   zerolog.Logger
	lead  *leadership
	// routes say which rooms get what of the list, alerts and incidents
	// (config and chat).
	routes *routing
	// settings are the rooms' settings (config and chat).
	settings *roomscope.Settings
	// search is the room's memory, which the sources write into.
	search *searchParts
	// mailOut sends mail (mail.smtp); nil when none is configured.
	mailOut *mail.Sender
	// opsMux serves /healthz, /readyz and /metrics (from the start, see
	// startup); the webhook joins it unless it has a listener of its own.
	opsMux *http.ServeMux

	ctx   context.Context
	group *errgroup.Group
	// leaderWork is what only the leader runs, besides the bot.
	leaderWork []func(ctx context.Context) error
}

// begin makes the group the parts run in; it ends when ctx does or one
// part fails.
func (s *services) begin(ctx context.Context) *errgroup.Group {
	s.group, s.ctx = errgroup.WithContext(ctx)
	return s.group
}

// goRun runs fn until the bot stops.
func (s *services) goRun(fn func(ctx context.Context) error) {
	s.group.Go(func() error { return fn(s.ctx) })
}

// afterReady makes fn part of the leader's work, started once the bot's
// first sync is done: parts that post on their own start only when the
// bot can post, and only on the replica that leads.
func (s *services) afterReady(fn func(ctx context.Context) error) {
	s.leaderWork = append(s.leaderWork, func(ctx context.Context) error {
		if s.bot.WaitReady(ctx) != nil {
			return nil
		}
		return fn(ctx)
	})
}

// runLeader campaigns for leadership, then runs the bot and the leader's
// work until ctx ends or leadership is lost.
func (s *services) runLeader() {
	s.goRun(func(ctx context.Context) error {
		return s.lead.run(ctx, func(ctx context.Context) error {
			return runParts(ctx, append([]func(context.Context) error{s.bot.Run}, s.leaderWork...)...)
		})
	})
}

// roomMoved gives what an upgraded room chose in chat (subscriptions,
// mutes, lists, settings) to its replacement; the config's rooms already
// name the replacement (bot.RoomNames).
func roomMoved(scopes *roomscope.Registry, log zerolog.Logger) func(ctx context.Context, old, replacement id.RoomID) {
	return func(ctx context.Context, old, replacement id.RoomID) {
		log := log.With().Str("room_id", old.String()).Str("replacement", replacement.String()).Logger()
		if err := scopes.Moved(ctx, old, replacement); err != nil {
			log.Error().Err(err).Msg("Moving the room's own choices to its replacement failed; a restart reads them again")
			return
		}
		log.Info().Msg("The room's own choices moved to its replacement")
	}
}

// roomDefaults are the config's per-room settings.
func roomDefaults(cfg *config.Config) roomscope.Defaults { return ghrelay.Defaults(cfg.GitHub.Rooms) }
