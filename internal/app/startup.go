package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/ops"
	"github.com/osbuild/ibbot/internal/store"
)

// startup is what a replica tells its supervisor while it starts: the
// operations endpoints answer from the first moment (/healthz: alive), and
// /readyz says what the replica waits for, until its parts are built and
// it answers for them. A replica whose database is down waits, not ready,
// instead of exiting into a crash loop whose back-off would delay it once
// the database is back.
type startup struct {
	mu      sync.Mutex
	waiting string                 // what it waits for, and why
	ready   func() (string, error) // once built
}

func (s *startup) readiness() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ready != nil:
		return s.ready()
	case s.waiting != "":
		return "", errors.New(s.waiting)
	}
	return "", errors.New("starting")
}

func (s *startup) waitFor(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiting = what
}

func (s *startup) built(ready func() (string, error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ready = ready
}

// serveOpsEarly listens for the operations endpoints at once (ln, or
// listen; neither: nowhere) and serves them until ctx ends; stop waits for
// that. A listen that fails stops the start at once.
func serveOpsEarly(ctx context.Context, listen string, ln net.Listener, reg *prometheus.Registry, st *startup,
	log zerolog.Logger) (srv *ops.Server, stop func(), err error) {
	srv = ops.New(reg, st.readiness, log.With().Str("component", "http").Logger())
	if ln == nil && listen != "" {
		if ln, err = net.Listen("tcp", listen); err != nil {
			return nil, nil, fmt.Errorf("http.listen: %w", err)
		}
	}
	if ln == nil {
		return srv, func() {}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.ServeListener(ctx, ln); err != nil {
			log.Error().Err(err).Msg("The operations endpoints stopped")
		}
	}()
	return srv, func() { cancel(); <-done }, nil
}

// openStore opens the database, waiting (not ready, logged once per
// change) while its server cannot be reached; other errors end the start.
func openStore(ctx context.Context, database string, st *startup, log zerolog.Logger) (*store.DB, error) {
	var db *store.DB
	waited := time.Time{}
	wait := backoff.Policy{Min: time.Second, Max: 10 * time.Second}
	err := wait.Until(ctx, func(ctx context.Context) error {
		var err error
		db, err = store.Open(ctx, database)
		if err != nil && !store.Unreachable(err) {
			return backoff.Permanent(err)
		}
		return err
	}, func(err error, changed bool) {
		st.waitFor("waiting for the database: " + err.Error())
		if waited.IsZero() {
			waited = time.Now()
		}
		if changed {
			log.Warn().Err(err).Msg("Cannot reach the database; not ready, trying again with back-off")
		}
	})
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if !waited.IsZero() {
		log.Info().Dur("after", time.Since(waited).Round(time.Millisecond)).Msg("The database answers; starting")
	}
	return db, nil
}
