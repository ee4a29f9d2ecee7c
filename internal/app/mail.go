package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
)

// startMail runs the mailing-list relay when an IMAP mailbox is configured.
func startMail(ctx context.Context, g *errgroup.Group, cfg config.Mail, st *store.DB, b *bot.Bot,
	reg prometheus.Registerer, board *health.Board, log zerolog.Logger) {
	if cfg.IMAP.Address == "" {
		return
	}
	log = log.With().Str("component", "mail").Logger()
	metrics := mail.NewMetrics(reg)
	relay := &mail.Relay{Store: st, Poster: b, Config: cfg, Log: log, Metrics: metrics}
	w := &mail.Watcher{Config: cfg.IMAP, Backfill: cfg.Backfill, Handle: relay.Handle, Store: st, Log: log, Metrics: metrics,
		MaxMailBytes: cfg.MaxMailBytes}
	board.Add(w)
	g.Go(func() error {
		if b.WaitReady(ctx) != nil {
			return nil
		}
		return w.Run(ctx)
	})
}
