package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
)

// services is what every long-running part is started with: the bot it
// posts through, the store, where it reports (metrics, !status), the clock
// and the group that runs it until the bot stops.
type services struct {
	ctx   context.Context
	group *errgroup.Group
	bot   *bot.Bot
	store *store.DB
	reg   prometheus.Registerer
	board *health.Board
	now   func() time.Time
	log   zerolog.Logger
}

// goRun runs fn until the bot stops.
func (s *services) goRun(fn func(ctx context.Context) error) {
	s.group.Go(func() error { return fn(s.ctx) })
}

// afterReady runs fn once the bot's first sync is done: parts that post on
// their own start only when the bot can post.
func (s *services) afterReady(fn func(ctx context.Context) error) {
	s.goRun(func(ctx context.Context) error {
		if s.bot.WaitReady(ctx) != nil {
			return nil
		}
		return fn(ctx)
	})
}
