package app

import (
	"context"
	"net/http"
	"slices"
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
	var allowed []string
	for _, s := range cfg.GitHub.Subscriptions {
		allowed = append(allowed, s.Repos...)
	}
	for _, c := range know.catalog.Services() {
		allowed = append(allowed, c.Repo)
	}
	allowed = append(allowed, cfg.Contribute.Repos...)
	for _, r := range cfg.GitHub.Rooms {
		if r.DefaultRepo != "" {
			allowed = append(allowed, r.DefaultRepo)
		}
	}
	slices.Sort(allowed)
	p.links = &ghrelay.Links{GitHub: know.github, Allowed: slices.Compact(allowed), Cooldown: cfg.GitHub.LinkCooldown, Now: now}
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
		wh := &ghrelay.Webhook{Secret: []byte(p.cfg.Webhook.Secret.Value()), Store: s.store, Relay: p.relay, Now: s.now,
			Log: log, Metrics: ghrelay.NewWebhookMetrics(s.reg)}
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
		p.resolveDefaultRepos(ctx, s.bot, log)
		return nil
	})
	if p.relay == nil {
		return
	}
	s.afterReady(p.relay.Run)
	if repos := p.relay.Rules().Repos(); p.cfg.PollInterval > 0 && len(repos) > 0 {
		poller := &ghrelay.Poller{GitHub: know.github, Relay: p.relay, Store: s.store, Repos: repos,
			Interval: p.cfg.PollInterval, Now: s.now, Log: log}
		s.board.Add(poller)
		s.afterReady(poller.Run)
	}
}

// resolveDefaultRepos tells the link previews which repository `#123`
// means in each room that has one.
func (p *githubParts) resolveDefaultRepos(ctx context.Context, b *bot.Bot, log zerolog.Logger) {
	for room, rc := range p.cfg.Rooms {
		if rc.DefaultRepo == "" {
			continue
		}
		if id, err := b.ResolveRoom(ctx, room); err == nil {
			p.links.SetDefault(id, rc.DefaultRepo)
		} else {
			log.Warn().Err(err).Str("room", room).Msg("github.rooms: cannot resolve the room")
		}
	}
}
