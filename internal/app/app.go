// Package app is ibbot's composition root: it assembles a running bot from
// a Config (store, knowledge, commands, the bot, the relays, the HTTP
// servers) and runs it. `ibbot run`, `ibbot demo` and the end-to-end tests
// all start ibbot through it, so they run exactly what production runs.
package app

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers"
	"github.com/osbuild/ibbot/handlers/alerts"
	"github.com/osbuild/ibbot/handlers/deploys"
	"github.com/osbuild/ibbot/handlers/docs"
	"github.com/osbuild/ibbot/handlers/incidents"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/buildinfo"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
)

// Options tune Run for tests and the demo.
type Options struct {
	Now        func() time.Time
	HTTPClient *http.Client // for the Matrix client
	// Listener, when set, is used for the operations server instead of
	// listening on cfg.HTTP.Listen.
	Listener net.Listener
	// Started is called once the bot exists, before it connects.
	Started func(*bot.Bot)
	// KeyWait shortens the waits for a missing room key (tests).
	KeyWait time.Duration
}

// Run serves until ctx ends and the queue is flushed. Everything is built
// from the config first, in one pass (knowledge, GitHub rules, every
// command, the bot), then started by start, which lists what runs.
func Run(ctx context.Context, cfg *config.Config, log zerolog.Logger, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	starting := &startup{}
	opsSrv, stopOps, err := serveOpsEarly(ctx, cfg.HTTP.Listen, opts.Listener, reg, starting, log)
	if err != nil {
		return err
	}
	defer stopOps()
	st, err := openStore(ctx, cfg.Database, starting, log)
	if err != nil {
		return err
	}
	defer st.Close()
	starting.waitFor("starting")

	board := &health.Board{}
	know, err := newKnowledge(cfg, st, opts.Now, reg)
	if err != nil {
		return err
	}
	names := bot.NewRoomNames()
	scopes, err := roomscope.Open(ctx, st, names, roomDefaults(cfg))
	if err != nil {
		return err
	}
	gh, err := newGitHubParts(ctx, cfg, st, know, scopes, opts.Now, log)
	if err != nil {
		return err
	}
	routes, err := newRouting(ctx, cfg, scopes)
	if err != nil {
		return err
	}
	lead := newLeadership(cfg, st, reg, log)
	memory, err := newSearch(st, log, opts.Now)
	if err != nil {
		return err
	}
	defer memory.close()
	meet := newMeetingParts(cfg, st, log, opts.Now)
	sender := newMailSender(cfg.Mail, st, log, opts.Now)
	table, err := commands(cfg, st, board, know, gh, routes, memory, meet, replier(cfg.Mail, st, sender, routes.lists, opts.Now),
		deploys.Toggle(scopes.Settings(), opts.Now), opts.Now)
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Options{
		Config: cfg.Matrix, Store: st, Commands: table, Metrics: bot.NewMetrics(reg),
		Log: log, ShutdownTimeout: cfg.Shutdown.Timeout, Now: opts.Now, HTTPClient: opts.HTTPClient,
		Welcome: &bot.WelcomeOptions{
			Rooms: cfg.Welcome.Rooms, MaxPerMinute: cfg.Welcome.MaxPerMinute,
			Render: handlers.Welcome(know.Catalog.Project),
		},
		Listeners: []bot.Listener{gh.links}, Observers: meet.observers(),
		Retention: store.Retention{Outbox: cfg.Retention.Outbox, Relations: cfg.Retention.Relations},
		JoinRooms: cfg.AllRooms(), RoomNames: names, Lease: lead.botLease(),
		Encryption: cfg.Encryption, Pool: st.SharedPool, KeyWait: opts.KeyWait,
		RoomMoved: roomMoved(scopes, log),
	})
	if err != nil {
		return err
	}
	if opts.Started != nil {
		opts.Started(b)
	}
	s := &services{bot: b, store: st, reg: reg, board: board, now: opts.Now, log: log, lead: lead,
		settings: scopes.Settings(), routes: routes, search: memory, mailOut: sender, opsMux: opsSrv.Mux}
	starting.built(func() (string, error) { return s.lead.ready(s.bot.Ready) })
	return start(ctx, cfg, s, know, gh, meet)
}

// commands builds the command table: every command, before the bot that
// dispatches them exists.
func commands(cfg *config.Config, st *store.DB, board *health.Board, know *knowledge, gh *githubParts, routes *routing,
	memory *searchParts, meet *meetingParts, replies *mail.Replier, toggle deploys.RoomToggle, now func() time.Time) (*bot.Table, error) {
	table := bot.NewTable()
	err := handlers.Register(table, handlers.Deps{
		Build: buildinfo.Read(), Started: now(), Now: now, Status: st, Health: board, Project: know.Knowledge,
	})
	if err != nil {
		return nil, err
	}
	live := &deploys.Live{Catalog: know.Catalog, Deploys: know.Deployments, Compare: know.Comparisons, Pulls: know.Pulls, History: know.History, Now: now}
	if err := table.Add(deploys.Command(know.Catalog, know.History, now, toggle), live.Command()); err != nil {
		return nil, err
	}
	if len(cfg.Search.Docs) > 0 {
		if err := table.Add(docs.Command(memory.index)); err != nil {
			return nil, err
		}
	}
	if err := table.Add(handlers.Search(memory.index, roomScopes(routes.lists, gh.subs))); err != nil {
		return nil, err
	}
	if err := table.Add(gh.commands(st, now)...); err != nil {
		return nil, err
	}
	if cfg.Alerts.Webhook.Path != "" {
		if err := table.Add(alerts.Command(st, routes.alerts, now)); err != nil {
			return nil, err
		}
	}
	if meet != nil {
		if err := table.Add(meet.commands.All()...); err != nil {
			return nil, err
		}
	}
	if cfg.Incidents.Statuspage != "" {
		if err := table.Add(incidents.Command(st, routes.incidents, now)); err != nil {
			return nil, err
		}
	}
	if cfg.Mail.IMAP.Address != "" {
		return table, table.Add(mail.Threads(st, now, &mail.ListSubscriber{Lists: routes.lists, Allowed: cfg.Mail.ChatLists(), Now: now}, memory.index, replies))
	}
	return table, nil
}

// start runs every part until ctx ends. Every replica serves HTTP
// (operations, webhook: a standby records deliveries for the leader) and
// the status page; the leader also runs the bot and, once its first sync
// is done, the parts that post on their own (GitHub relay and poller, mail
// watcher, deploy checks).
func start(ctx context.Context, cfg *config.Config, s *services, know *knowledge, gh *githubParts, meet *meetingParts) error {
	s.board.Add(s.bot)
	s.board.Add(s.bot.EncryptionHealth())
	s.board.Add(s.bot.CommandDescriptions())
	s.board.Add(s.bot.RoomMoves())
	s.board.Add(s.bot.RoomAccess())
	g := s.begin(ctx)
	gh.start(s, know, s.opsMux)
	startSearch(s, cfg.Search, know.github)
	startMail(s, cfg.Mail)
	startAlerts(s, cfg.Alerts, s.opsMux)
	startDeploys(s, cfg.ProdHash, know)
	startIncidents(s, cfg.Incidents)
	startMeetings(s, cfg, meet)
	startStatusPage(s, cfg.Status, know, pageIncidents(s, cfg.Incidents), meet, gh.reviews(s.store, nil, s.now, s.log))
	s.runLeader()
	return g.Wait()
}
