// Package ops serves the operator's endpoints: /healthz (the process is
// alive), /readyz (the bot has synced) and /metrics (Prometheus). Later
// features mount their own handlers (webhooks) on the same mux.
package ops

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

// Server is the operations HTTP server.
type Server struct {
	Mux *http.ServeMux
	srv *http.Server
	log zerolog.Logger
}

// New builds the server; ready tells /readyz whether this replica is
// ready (and in what role), or why not.
func New(reg *prometheus.Registry, ready func() (string, error), log zerolog.Logger) *Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		role, err := ready()
		if err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready: " + role + "\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return NewPlain(mux, log)
}

// NewPlain serves mux alone (a webhook on its own listener, so that the
// metrics need not face the internet).
func NewPlain(mux *http.ServeMux, log zerolog.Logger) *Server {
	return &Server{Mux: mux, log: log, srv: &http.Server{
		Handler: mux,
		// Bounds that keep slow or idle clients from holding connections.
		// Webhook bodies have tighter limits of their own (package
		// intake); ReadTimeout is the backstop for every other request.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}}
}

// Serve listens on addr until ctx ends, then shuts down gracefully. The
// listener is opened before Serve returns control, so a bad address fails
// fast.
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on an open listener.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	s.log.Info().Str("address", ln.Addr().String()).Msg("Serving HTTP")
	stop := context.AfterFunc(ctx, func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		s.srv.Shutdown(c)
	})
	defer stop()
	if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
