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
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/roomsettings"
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
	// mailRoutes says which lists go to which rooms (config and chat).
	mailRoutes *mail.Routes
	// settings are what rooms set in chat.
	settings *roomsettings.Settings
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

// sameRoom reports whether a room the config names (an id or an alias)
// is room, resolving aliases and following upgraded rooms to their
// replacements through the bot (cached there).
func (s *services) sameRoom(name string, room id.RoomID) bool {
	if id.RoomID(name) == room {
		return true
	}
	if s.bot == nil {
		return false
	}
	got, err := s.bot.ResolveRoom(s.ctx, name)
	return err == nil && got == room
}

// roomMoved gives what an upgraded room chose in chat (subscriptions,
// mutes, lists, settings) to its replacement, and has every part read
// them again; the config's rooms already resolve to the replacement.
func (s *services) roomMoved(ctx context.Context, gh *githubParts, old, replacement id.RoomID) {
	log := s.log.With().Str("room_id", old.String()).Str("replacement", replacement.String()).Logger()
	if err := s.store.MoveRoom(ctx, old.String(), replacement.String()); err != nil {
		log.Error().Err(err).Msg("Moving the room's own choices to its replacement failed; they stay with the old room")
		return
	}
	for what, reload := range map[string]func() error{
		"GitHub subscriptions": func() error { return ghrelay.LoadRoomRules(ctx, s.store, gh.rules) },
		"mailing lists":        func() error { return s.mailRoutes.Load(ctx, s.store) },
		"room settings":        func() error { return s.settings.Reload(ctx) },
	} {
		if err := reload(); err != nil {
			log.Error().Err(err).Str("what", what).Msg("Reading the rooms' choices again after a move failed; a restart reads them")
		}
	}
	gh.resolveRooms(ctx, s.bot, log)
	log.Info().Msg("The room's own choices moved to its replacement")
}

// deploysToggle is !deploys on|off: the room's setting, said by whom.
func (s *services) deploysToggle(ctx context.Context, room id.RoomID, on bool, by id.UserID) error {
	value := "off"
	if on {
		value = "on"
	}
	return s.settings.Set(ctx, room, "deploys", value, by, s.now())
}
