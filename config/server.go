package config

// The sections of how ibbot runs: http:, status:, log:, leader:, shutdown:, retention:, database:.

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Status is the public status page: the architecture diagram annotated
// with what runs in production, deploys and relay health.
type Status struct {
	Listen string `yaml:"listen"` // host:port; empty: no page
	// PublicURL is where people reach the page (behind a proxy); !hash
	// links to it.
	PublicURL string `yaml:"public_url"`
}

// Retention bounds how long the database keeps what it no longer needs.
type Retention struct {
	// Outbox is how long sent messages stay in the outgoing queue; their
	// keys deduplicate for that long.
	Outbox time.Duration `yaml:"outbox"`
	// Relations is how long the bot remembers which Matrix event an
	// announcement (an issue, a mail thread) was posted as, counted from
	// its last edit or thread line; later changes edit it and reply in its
	// thread. 0 keeps them forever.
	Relations time.Duration `yaml:"relations"`
	// Deliveries is how long processed webhook deliveries are kept; their
	// ids deduplicate GitHub's redeliveries for that long.
	Deliveries time.Duration `yaml:"deliveries"`
}

// HTTP configures the operations endpoint (/healthz, /readyz, /metrics).
type HTTP struct {
	Listen string `yaml:"listen"`
	// TrustedProxies are the addresses (CIDR or single) of the proxies in
	// front of ibbot whose X-Forwarded-For names the client, such as an
	// OpenShift router; the webhook's per-client limits apply to that
	// client. Empty: the peer's address is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Proxies are the parsed TrustedProxies; Validate has refused bad ones.
func (h HTTP) Proxies() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range h.TrustedProxies {
		if p, err := parsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parsePrefix reads a CIDR, or a single address as its own prefix.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// Log configures the structured logger.
type Log struct {
	Level  string    `yaml:"level"`
	Format LogFormat `yaml:"format"`
}

// Leader tunes the election among replicas that share a PostgreSQL
// database: one leads, the others stand by (unused with SQLite).
type Leader struct {
	// Heartbeat is how often the leader proves it still leads, and a
	// standby tries to take over.
	Heartbeat time.Duration `yaml:"heartbeat"`
	// Timeout is how long a silent leader (frozen, cut off) keeps the
	// lead before the database hands it to a standby.
	Timeout time.Duration `yaml:"timeout"`
}

// Shutdown bounds how long a stop may take to flush the outgoing queue.
type Shutdown struct {
	Timeout time.Duration `yaml:"timeout"`
}

// DatabaseDriver tells which store a database setting selects: a
// postgres:// or postgresql:// URL, or else a SQLite file path.
func DatabaseDriver(db string) (string, error) {
	scheme, _, isURL := strings.Cut(db, "://")
	switch {
	case db == "":
		return "", errors.New("is required: a SQLite file path or a postgres:// URL")
	case scheme == "postgres" || scheme == "postgresql":
		// The host may be left out (postgres://): then PGHOST and the
		// other PG* variables say where the database is.
		if _, err := url.Parse(db); err != nil {
			return "", errors.New("is not a PostgreSQL URL like postgres://ibbot@db.example.org/ibbot")
		}
		return "postgres", nil
	case isURL && !strings.ContainsAny(scheme, "/."):
		return "", fmt.Errorf("%s:// is not supported: use a SQLite file path or a postgres:// URL", scheme)
	default:
		return "sqlite", nil
	}
}
