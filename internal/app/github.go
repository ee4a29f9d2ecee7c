package app

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/internal/intake"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
)

// githubParts is the GitHub relay, its receivers and the link previews.
type githubParts struct {
	cfg      config.GitHub
	proxies  []netip.Prefix // http.trusted_proxies
	keep     time.Duration  // retention.deliveries
	subs     *ghrelay.Subscriptions
	settings *roomscope.Settings
	scope    ghrelay.Scope // what chat may reach
	links    *ghrelay.Links
	acting   *ghrelay.Acting // nil: no GitHub as yourself
}

// newGitHubParts builds the subscriptions and the link previews from the
// config and the rooms' choices; the relay itself is built when it starts
// (it posts through the bot).
func newGitHubParts(ctx context.Context, cfg *config.Config, st *store.DB, know *knowledge, scopes *roomscope.Registry, now func() time.Time, log zerolog.Logger) (*githubParts, error) {
	subs, err := roomscope.Add(ctx, scopes, ghrelay.Source(cfg.GitHub.Subscriptions))
	if err != nil {
		return nil, err
	}
	allowed, named := cfg.GitHub.ChatScope()
	p := &githubParts{
		cfg: cfg.GitHub, proxies: cfg.HTTP.Proxies(), keep: cfg.Retention.Deliveries, subs: subs, settings: scopes.Settings(),
		scope: ghrelay.Scope{Allowed: allowed, Named: named},
	}
	p.links = &ghrelay.Links{GitHub: know.github, Allowed: cfg.GitHub.LinkRepos, Cooldown: cfg.GitHub.LinkCooldown, Now: now,
		Subs: subs, Chat: p.scope, Settings: p.settings}
	if o := cfg.GitHub.OAuth; o.ClientID != "" {
		sealer, err := ghrelay.NewSealer(cfg.TokenKey())
		if err != nil {
			return nil, err
		}
		people := &ghrelay.People{ClientID: o.ClientID, ClientSecret: o.ClientSecret.Value(), Scopes: o.Scopes, WebURL: o.WebURL,
			APIURL: cfg.GitHub.APIURL, HTTP: &http.Client{Timeout: 30 * time.Second}, Store: st, Sealer: sealer,
			Log: log.With().Str("component", "github-people").Logger(), Now: now}
		p.acting = &ghrelay.Acting{People: people, Scope: p.scope, Links: p.links, Events: st, Own: st}
	}
	return p, nil
}

// commands are !issue and !gh; rooms subscribe in chat whether or not the
// config subscribes any.
func (p *githubParts) commands(st *store.DB, now func() time.Time) []bot.Command {
	return []bot.Command{
		p.reviews(st, nil, now, zerolog.Nop()).Command(),
		ghrelay.IssueCommand(p.links.GitHub, p.links),
		ghrelay.GHCommand(&ghrelay.Subscriber{Subs: p.subs, Lookup: ghrelay.LookupRepo(p.links.GitHub), Scope: p.scope,
			Settings: p.settings, Now: now, Acting: p.acting}),
	}
}

// start runs the relay, the poller and a separate webhook listener when
// configured; the webhook on the shared listener is mounted on mux.
func (p *githubParts) start(s *services, know *knowledge, mux *http.ServeMux) {
	log := s.log.With().Str("component", "github").Logger()
	queue := p.reviews(s.store, s.bot, s.now, log)
	relay := ghrelay.NewRelay(ghrelay.RelayOptions{Store: s.store, Poster: s.bot, Subs: p.subs, Config: p.cfg, Settings: p.settings,
		Search: s.store, Wrote: s.search.wrote, Queue: queue, OwnComments: p.ownComments(s.store),
		KeepDeliveries: p.keep, Now: s.now, Log: log})
	if p.acting != nil {
		logins := &ghrelay.Logins{People: p.acting.People, Poster: s.bot}
		s.board.Add(logins)
		s.afterReady(logins.Run)
	}
	if len(p.cfg.Reviews.Rooms) > 0 {
		s.board.Add(queue)
		s.afterReady(queue.Run)
	}
	if p.cfg.Webhook.Path != "" {
		wh := &ghrelay.Webhook{Secret: []byte(p.cfg.Webhook.Secret.Value()), Store: s.store, Wake: relay.Poke, Now: s.now,
			Log: log, Metrics: ghrelay.NewWebhookMetrics(s.reg), Slots: p.slots(),
			Intake: intake.New(intake.DefaultLimits(p.maxBody()), p.proxies, s.now)}
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
	backfill := &ghrelay.Backfill{GitHub: know.github, Store: s.store, Repos: func() []string { return p.subs.Targets(nil) },
		Interval: time.Hour, Wrote: s.search.wrote, Now: s.now, Log: log}
	s.board.Add(backfill)
	s.afterReady(backfill.Run)
	if p.cfg.PollInterval > 0 {
		poller := &ghrelay.Poller{GitHub: know.github, Store: s.store, Wake: relay.Poke, Repos: func() []string { return p.subs.Targets(nil) },
			CIRepos:  func() []string { return ghrelay.ReposWith(p.subs, config.EventCI) },
			Interval: p.cfg.PollInterval, Now: s.now, Log: log}
		s.board.Add(poller)
		s.afterReady(poller.Run)
	}
}

// reviews is the review queue over st; poster may be nil where it only
// reads (!reviews, the status page's figures).
// reviews is the review queue; poster nil for one that only answers
// (!reviews, the status page).
func (p *githubParts) reviews(st *store.DB, poster interface {
	Post(ctx context.Context, key, room string, r bot.Reply) error
}, now func() time.Time, log zerolog.Logger) *ghrelay.Queue {
	return &ghrelay.Queue{Store: st, Poster: poster, Config: p.cfg.Reviews, Subs: p.subs, Now: now, Log: log}
}

// ownComments is what tells the relay which comments people made through
// ibbot, so they are not announced back to the room they were said in;
// nil when nobody acts as themselves, or the operator wants them echoed.
func (p *githubParts) ownComments(st *store.DB) ghrelay.OwnComments {
	if p.acting == nil || p.cfg.OAuth.Echo {
		return nil
	}
	return st
}

// slots bounds the verified deliveries recorded at once
// (github.webhook.max_concurrent); nil: the webhook's default.
func (p *githubParts) slots() chan struct{} {
	if n := p.cfg.Webhook.MaxConcurrent; n > 0 {
		return make(chan struct{}, n)
	}
	return nil
}

// maxBody is github.webhook.max_body; a config built in code rather than
// loaded may leave it zero.
func (p *githubParts) maxBody() int64 {
	if p.cfg.Webhook.MaxBody <= 0 {
		return ghrelay.DefaultMaxBody
	}
	return int64(p.cfg.Webhook.MaxBody)
}
