package app

import (
	"context"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/mail"
)

// startMail runs the mailing-list relay when an IMAP mailbox is configured.
func startMail(s *services, cfg config.Mail) {
	if cfg.IMAP.Address == "" {
		return
	}
	log := s.log.With().Str("component", "mail").Logger()
	metrics := mail.NewMetrics(s.reg)
	relay := &mail.Relay{Store: s.store, Poster: s.bot, Config: cfg, Log: log, Metrics: metrics, Lists: s.routes.lists,
		Search: s.store, Wrote: s.search.wrote}
	w := &mail.Watcher{Config: cfg.IMAP, Backfill: cfg.Backfill, Handle: relay.Handle, Store: s.store, Log: log,
		Metrics: metrics, MaxMailBytes: cfg.MaxMailBytes, Now: s.now}
	s.board.Add(w)
	s.afterReady(func(ctx context.Context) error {
		if n, err := mail.Backfill(ctx, s.store); err != nil {
			log.Warn().Err(err).Msg("Giving the search the threads relayed before it failed; the next start tries again")
		} else if n > 0 {
			log.Info().Int("threads", n).Msg("Gave the search the threads relayed before it")
			s.search.wrote()
		}
		return w.Run(ctx)
	})
}
