package config

// Validate: every problem of a config at once, each naming its key.

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/osbuild/ibbot/internal/suggest"
	"github.com/rs/zerolog"
)

// Validate reports every problem of c, each prefixed with its key path, joined
// into one error; nil means the configuration is usable.
func (c *Config) Validate() error { return errors.Join(c.problems()...) }

// checker collects problems, each naming its key.
type checker struct{ errs []error }

func (ch *checker) bad(key, format string, args ...any) {
	ch.errs = append(ch.errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// ints checks lo <= v <= hi.
func (ch *checker) ints(key string, v, lo, hi int, zero string) {
	if v < lo || v > hi {
		ch.bad(key, "must be between %d and %d%s, got %d", lo, hi, zeroNote(zero), v)
	}
}

// durations checks lo <= v <= hi; with off != "", 0 is allowed too and
// means that.
func (ch *checker) durations(key string, v, lo, hi time.Duration, off string) {
	if v == 0 && off != "" {
		return
	}
	if v < lo || v > hi {
		ch.bad(key, "must be between %s and %s%s, got %s", fmtDur(lo), fmtDur(hi), zeroNote(off), fmtDur(v))
	}
}

func zeroNote(zero string) string {
	if zero == "" {
		return ""
	}
	return " (or 0: " + zero + ")"
}

// fmtDur writes whole days as days ("30d"), which time.Duration does not.
func fmtDur(d time.Duration) string {
	const day = 24 * time.Hour
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// oneOf checks an enum-like value, suggesting the nearest allowed one.
func oneOf[T ~string](ch *checker, key string, v T, allowed ...T) {
	if slices.Contains(allowed, v) {
		return
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	msg := fmt.Sprintf("%q is not one of %s", v, strings.Join(names, ", "))
	if best := suggest.Closest(string(v), names); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	ch.bad(key, "%s", msg)
}

func (ch *checker) rooms(key string, rooms []string, required bool) {
	if required && len(rooms) == 0 {
		ch.bad(key, "is required: room ids (!id:server) or aliases (#name:server)")
	}
	for i, room := range rooms {
		if !validRoomRef(room) {
			ch.bad(fmt.Sprintf("%s[%d]", key, i), "%q is neither a room id (!id:server) nor an alias (#name:server)", room)
		}
	}
}

func (ch *checker) repos(key string, repos []string, globs bool) {
	for i, r := range repos {
		if !ValidRepo(r, globs) {
			ch.bad(fmt.Sprintf("%s[%d]", key, i), "%q is not owner/name", r)
		}
	}
}

// problems lists every problem of c.
func (c *Config) problems() []error {
	ch := &checker{}
	c.checkMatrix(ch)
	c.checkPlaceholders(ch)
	if _, err := DatabaseDriver(c.Database); err != nil {
		ch.bad("database", "%v", err)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); c.HTTP.Listen != "" && err != nil {
		ch.bad("http.listen", "%q is not host:port: %v", c.HTTP.Listen, err)
	}
	for i, p := range c.HTTP.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			ch.bad(fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is neither an address nor a CIDR", p)
		}
	}
	if _, err := zerolog.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
		oneOf(ch, "log.level", c.Log.Level, "trace", "debug", "info", "warn", "error")
	}
	oneOf(ch, "log.format", c.Log.Format, LogAuto, LogJSON, LogConsole)
	ch.durations("shutdown.timeout", c.Shutdown.Timeout, time.Second, 10*time.Minute, "")
	c.checkEncryption(ch)
	ch.durations("leader.heartbeat", c.Leader.Heartbeat, 100*time.Millisecond, 10*time.Second, "")
	ch.durations("leader.timeout", c.Leader.Timeout, time.Second, 5*time.Minute, "")
	if c.Leader.Heartbeat > 0 && c.Leader.Timeout < 3*c.Leader.Heartbeat {
		ch.bad("leader.timeout", "must be at least 3 heartbeats (%s), got %s: a leader must be able to miss a beat",
			fmtDur(3*c.Leader.Heartbeat), fmtDur(c.Leader.Timeout))
	}
	c.checkRetention(ch)
	if _, _, err := net.SplitHostPort(c.Status.Listen); c.Status.Listen != "" && err != nil {
		ch.bad("status.listen", "%q is not host:port: %v", c.Status.Listen, err)
	}
	if c.Status.Listen != "" && c.Status.Listen == c.HTTP.Listen {
		ch.bad("status.listen", "must differ from http.listen: the public page never shares a listener with /metrics")
	}
	if c.Status.PublicURL != "" && !isHTTPURL(c.Status.PublicURL) {
		ch.bad("status.public_url", "%q is not an http(s) URL", c.Status.PublicURL)
	}
	if !isHTTPURL(c.GitHub.APIURL) {
		ch.bad("github.api_url", "%q is not an http(s) URL", c.GitHub.APIURL)
	}
	c.checkProdHash(ch)
	c.checkGitHub(ch)
	c.checkMail(ch)
	c.checkSearch(ch)
	c.checkAlerts(ch)
	c.checkIncidents(ch)
	c.checkMeetings(ch)
	ch.repos("contribute.repos", c.Contribute.Repos, false)
	ch.ints("contribute.max_issues", c.Contribute.MaxIssues, 0, 20, "no search")
	ch.durations("contribute.cache_ttl", c.Contribute.CacheTTL, time.Minute, 7*24*time.Hour, "search every time")
	ch.rooms("welcome.rooms", c.Welcome.Rooms, false)
	ch.ints("welcome.max_per_minute", c.Welcome.MaxPerMinute, 1, 60, "")
	return ch.errs
}

// checkPlaceholders refuses a secret left at a placeholder, and a
// homeserver on the domains reserved for examples (RFC 2606).
func (c *Config) checkPlaceholders(ch *checker) {
	for _, s := range secretEnv {
		v := strings.ToLower(strings.TrimSpace(s.get(c).Value()))
		if slices.Contains(placeholders, v) || (strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">")) {
			ch.bad(s.key, "is a placeholder, not a real value: set the real one (better in the environment, %s)", s.name)
		}
	}
	if u, err := url.Parse(c.Matrix.Homeserver); err == nil && isExampleDomain(u.Hostname()) {
		ch.bad("matrix.homeserver", "%q is the example's placeholder: give the bot account's homeserver "+
			"(for a Fedora account, @name:fedora.im, it is https://fedora.ems.host)", c.Matrix.Homeserver)
	}
}

// isExampleDomain reports whether host is (under) example.org, .com or .net.
func isExampleDomain(host string) bool {
	for _, d := range []string{"example.org", "example.com", "example.net"} {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

func (c *Config) checkRetention(ch *checker) {
	r := c.Retention
	ch.durations("retention.outbox", r.Outbox, time.Hour, 365*24*time.Hour, "")
	if r.Outbox > 0 && r.Outbox <= c.Matrix.CommandMaxAge {
		ch.bad("retention.outbox", "must be longer than matrix.command_max_age (%s), or a command answered just before a restart could be answered again", fmtDur(c.Matrix.CommandMaxAge))
	}
	ch.durations("retention.relations", r.Relations, 30*24*time.Hour, 100*365*24*time.Hour, "keep forever")
	ch.durations("retention.deliveries", r.Deliveries, 24*time.Hour, 365*24*time.Hour, "")
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// KeyError is one problem with one configuration key.
type KeyError struct {
	Key  string
	Line int // 0 when unknown
	Msg  string
}

func (e *KeyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", e.Key, e.Line, e.Msg)
	}
	return e.Key + ": " + e.Msg
}
