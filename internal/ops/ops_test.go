package ops

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// TestServersBoundSlowAndIdleClients: both the operations server and a
// webhook's own listener close connections that send too slowly, sit idle
// or send huge headers, so unauthenticated clients cannot hold them.
func TestServersBoundSlowAndIdleClients(t *testing.T) {
	for name, s := range map[string]*Server{
		"ops":     New(prometheus.NewRegistry(), func() (string, error) { return "leader", nil }, zerolog.Nop()),
		"webhook": NewPlain(http.NewServeMux(), zerolog.Nop()),
	} {
		srv := s.srv
		if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 || srv.WriteTimeout <= 0 {
			t.Errorf("%s: timeouts not all set: header %s, read %s, write %s, idle %s", name,
				srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
		}
		if srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 {
			t.Errorf("%s: MaxHeaderBytes %d", name, srv.MaxHeaderBytes)
		}
	}
}
