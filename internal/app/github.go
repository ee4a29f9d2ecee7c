package app

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/internal/intake"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/roomsettings"
)

// githubParts is the GitHub relay, its receivers and the link previews.
type githubParts struct {
	cfg     config.GitHub
	proxies []netip.Prefix // http.trusted_proxies
	keep    time.Duration  // retention.deliveries
	rules   *ghrelay.Rules
	scope   ghrelay.Scope // what chat may reach
	links   *ghrelay.Links
}

// newGitHubParts builds the subscription rules and the link previews from
// the config; the relay itself is built when it starts (it posts through
// the bot).
func newGitHubParts(cfg *config.Config, know *knowledge, now func() time.Time) *githubParts {
	p := &githubParts{
		cfg: cfg.GitHub, proxies: cfg.HTTP.Proxies(), keep: cfg.Retention.Deliveries, rules: ghrelay.NewRules(cfg.GitHub.Subscriptions),
		links: &ghrelay.Links{GitHub: know.github, Allowed: cfg.GitHub.LinkRepos, Cooldown: cfg.GitHub.LinkCooldown, Now: now},
	}
	p.rules.SetRoomNames(p.links.IsRoom)
	allowed, named := cfg.GitHub.ChatScope()
	p.scope = ghrelay.Scope{Allowed: allowed, Named: named}
	// A room previews what it follows, within the scope (a subscription
	// made before the scope was narrowed stays stored but reaches nothing new).
	p.links.Follows = func(room id.RoomID, repo string) bool { return p.scope.Allows(repo) && p.rules.Follows(room, repo) }
	return p
}

// settings gives the link previews (and so !gh) the rooms' own settings.
func (p *githubParts) settings(s *roomsettings.Settings) { p.links.Settings = s }

// commands are !issue and !gh; rooms subscribe in chat whether or not the
// config subscribes any.
func (p *githubParts) commands(st ghrelay.RoomChoices, now func() time.Time) []bot.Command {
	return []bot.Command{
		ghrelay.IssueCommand(p.links.GitHub, p.links),
		ghrelay.GHCommand(&ghrelay.Subscriber{Rules: p.rules, Store: st, Lookup: ghrelay.LookupRepo(p.links.GitHub), Scope: p.scope,
			Settings: p.links.Settings, Now: now}),
	}
}

// start runs the relay, the poller and a separate webhook listener when
// configured; the webhook on the shared listener is mounted on mux.
func (p *githubParts) start(s *services, know *knowledge, mux *http.ServeMux) {
	log := s.log.With().Str("component", "github").Logger()
	s.afterReady(func(ctx context.Context) error {
		p.resolveRooms(ctx, s.bot, log)
		return nil
	})
	relay := ghrelay.NewRelay(ghrelay.RelayOptions{Store: s.store, Poster: s.bot, Rules: p.rules, Config: p.cfg, Settings: s.settings,
		KeepDeliveries: p.keep, Now: s.now, Log: log})
	if p.cfg.Webhook.Path != "" {
		wh := &ghrelay.Webhook{Secret: []byte(p.cfg.Webhook.Secret.Value()), Store: s.store, Wake: relay.Poke, Now: s.now,
			Log: log, Metrics: ghrelay.NewWebhookMetrics(s.reg),
			Intake: intake.New(intake.DefaultLimits(p.maxBody()), p.proxies, s.now)}
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
	s.board.Add(relay)
	s.afterReady(relay.Run)
	if p.cfg.PollInterval > 0 {
		poller := &ghrelay.Poller{GitHub: know.github, Store: s.store, Wake: relay.Poke, Repos: p.rules.Repos,
			CIRepos:  func() []string { return p.rules.ReposWith(config.EventCI) },
			Interval: p.cfg.PollInterval, Now: s.now, Log: log}
		s.board.Add(poller)
		s.afterReady(poller.Run)
	}
}

// maxBody is github.webhook.max_body; a config built in code rather than
// loaded may leave it zero.
func (p *githubParts) maxBody() int64 {
	if p.cfg.Webhook.MaxBody <= 0 {
		return ghrelay.DefaultMaxBody
	}
	return int64(p.cfg.Webhook.MaxBody)
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
		p.links.SetRoom(room, id, p.cfg.Rooms[room].DefaultRepo, repos)
	}
}
