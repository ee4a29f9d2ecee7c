package app

import (
	"context"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/store"
)

// githubParts is the GitHub relay, its receivers and the link previews.
type githubParts struct {
	relay *ghrelay.Relay // nil when nothing is subscribed
	links *ghrelay.Links
	cfg   config.GitHub
}

// newGitHubParts builds the link previews; the relay follows once the bot
// exists (it posts through it).
func newGitHubParts(cfg *config.Config, know *knowledge, now func() time.Time) *githubParts {
	p := &githubParts{cfg: cfg.GitHub}
	p.links = &ghrelay.Links{GitHub: know.github, Allowed: cfg.GitHub.LinkRepos, Cooldown: cfg.GitHub.LinkCooldown, Now: now}
	return p
}

func (p *githubParts) newRelay(st *store.DB, b *bot.Bot, keepDeliveries time.Duration, now func() time.Time, log zerolog.Logger) {
	if len(p.cfg.Subscriptions) > 0 || p.cfg.Webhook.Path != "" {
		p.relay = ghrelay.NewRelay(ghrelay.RelayOptions{Store: st, Poster: b, Config: p.cfg, KeepDeliveries: keepDeliveries, Now: now,
			Log: log.With().Str("component", "github").Logger()})
	}
}

func (p *githubParts) commands(b *bot.Bot) []bot.Command {
	cmds := []bot.Command{ghrelay.IssueCommand(p.links.GitHub, p.links)}
	if p.relay != nil {
		cmds = append(cmds, ghrelay.SubscriptionsCommand(p.relay.Rules(), b.ResolveRoom))
	}
	return cmds
}

// start runs the relay, the poller and a separate webhook listener when
// configured; the webhook on the shared listener is mounted on mux.
func (p *githubParts) start(s *services, know *knowledge, mux *http.ServeMux) {
	log := s.log.With().Str("component", "github").Logger()
	if p.relay != nil && p.cfg.Webhook.Path != "" {
		wh := &ghrelay.Webhook{Secret: []byte(p.cfg.Webhook.Secret.Value()), Store: s.store, Wake: p.relay.Poke, Now: s.now,
			Log: log, Metrics: ghrelay.NewWebhookMetrics(s.reg)}
		if n := p.cfg.Webhook.MaxConcurrent; n > 0 {
			wh.Slots = make(chan struct{}, n)
		}
		if p.cfg.Webhook.Listen == "" {
			mux.Handle(p.cfg.Webhook.Path, wh)
		} else {
			own := http.NewServeMux()
			own.Handle(p.cfg.Webhook.Path, wh)
			srv := ops.NewPlain(own, log)
			s.goRun(func(ctx context.Context) error { return srv.Serve(ctx, p.cfg.Webhook.Listen) })
		}
	}
	s.afterReady(func(ctx context.Context) error {
		p.resolveRooms(ctx, s.bot, log)
		return nil
	})
	if p.relay == nil {
		return
	}
	s.afterReady(p.relay.Run)
	if repos := p.relay.Rules().Repos(); p.cfg.PollInterval > 0 && len(repos) > 0 {
		poller := &ghrelay.Poller{GitHub: know.github, Store: s.store, Wake: p.relay.Poke, Repos: repos,
			Interval: p.cfg.PollInterval, Now: s.now, Log: log}
		s.board.Add(poller)
		s.afterReady(poller.Run)
	}
}

// resolveRooms tells the link previews, per room, which repositories it
// follows and which one `#123` means there.
func (p *githubParts) resolveRooms(ctx context.Context, b *bot.Bot, log zerolog.Logger) {
	follows := map[string][]string{}
	for _, s := range p.cfg.Subscriptions {
		for _, room := range s.Rooms {
			follows[room] = append(follows[room], s.Repos...)
		}
	}
	for room := range p.cfg.Rooms {
		if _, ok := follows[room]; !ok {
			follows[room] = nil
		}
	}
	for room, repos := range follows {
		id, err := b.ResolveRoom(ctx, room)
		if err != nil {
			log.Warn().Err(err).Str("room", room).Msg("Cannot resolve the room; its issue links get no previews")
			continue
		}
		p.links.SetRoom(id, p.cfg.Rooms[room].DefaultRepo, repos)
	}
}
