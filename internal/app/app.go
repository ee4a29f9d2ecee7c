// Package app assembles a running ibbot from a Config: store, bot,
// commands and the operations server. Both `ibbot run` and `ibbot demo`
// start the bot through it, so the demo runs exactly what production runs.
package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/buildinfo"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/ops"
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
}

// Run serves until ctx ends and the queue is flushed.
func Run(ctx context.Context, cfg *config.Config, log zerolog.Logger, opts Options) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	st, err := store.Open(ctx, cfg.Database)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer st.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	know, err := newKnowledge(cfg, opts.Now, reg)
	if err != nil {
		return err
	}
	table := bot.NewTable()
	board := &health.Board{}
	if err := handlers.Register(table, handlers.Deps{
		Build: buildinfo.Read(), Started: opts.Now(), Now: opts.Now, Status: st, Health: board,
		Catalog: know.catalog, Deployments: know.deploys, Comparisons: know.compare, Diagram: know.diagram,
		Newcomers: know.newcomers, NewcomerIn: cfg.Contribute.Repos, MailingList: cfg.Contact.MailingList,
	}); err != nil {
		return err
	}
	gh := newGitHubParts(cfg, know, opts.Now)
	b, err := bot.New(bot.Options{
		Config: cfg.Matrix, Store: st, Commands: table, Metrics: bot.NewMetrics(reg),
		Log: log, ShutdownTimeout: cfg.Shutdown.Timeout, Now: opts.Now, HTTPClient: opts.HTTPClient,
		Welcome: &bot.WelcomeOptions{
			Rooms: cfg.Welcome.Rooms, MaxPerMinute: cfg.Welcome.MaxPerMinute,
			Render: handlers.Welcome(know.catalog.Project),
		},
		Listeners: []bot.Listener{gh.links},
		Retention: store.Retention{Outbox: cfg.Retention.Outbox, Relations: cfg.Retention.Relations},
		JoinRooms: cfg.AllRooms(),
	})
	if err != nil {
		return err
	}
	board.Add(b)
	gh.newRelay(st, b, cfg.Retention.Deliveries, opts.Now, log)
	if err := table.Add(gh.commands(b)...); err != nil {
		return err
	}
	if cfg.Mail.IMAP.Address != "" {
		if err := table.Add(mail.Threads(st, opts.Now)); err != nil {
			return err
		}
	}
	if opts.Started != nil {
		opts.Started(b)
	}

	g, gctx := errgroup.WithContext(ctx)
	s := &services{ctx: gctx, group: g, bot: b, store: st, reg: reg, board: board, now: opts.Now, log: log}
	srv := ops.New(reg, b.Ready, log.With().Str("component", "http").Logger())
	switch {
	case opts.Listener != nil:
		s.goRun(func(ctx context.Context) error { return srv.ServeListener(ctx, opts.Listener) })
	case cfg.HTTP.Listen != "":
		s.goRun(func(ctx context.Context) error { return srv.Serve(ctx, cfg.HTTP.Listen) })
	}
	gh.start(s, know, srv.Mux)
	startMail(s, cfg.Mail)
	s.goRun(b.Run)
	if w := know.watcher(cfg, st, b, opts.Now, log); w != nil {
		board.Add(w)
		s.afterReady(w.Run)
	}
	return g.Wait()
}
