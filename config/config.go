// Package config holds ibbot's typed configuration: defaults, loading from YAML
// plus environment variables and files for secrets, and validation that names
// the key at fault for every problem.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// Config is the whole configuration of one ibbot instance.
type Config struct {
	Matrix     Matrix     `yaml:"matrix"`
	Database   string     `yaml:"database"`
	HTTP       HTTP       `yaml:"http"`
	Log        Log        `yaml:"log"`
	Shutdown   Shutdown   `yaml:"shutdown"`
	GitHub     GitHub     `yaml:"github"`
	Catalog    Catalog    `yaml:"catalog"`
	ProdHash   ProdHash   `yaml:"prodhash"`
	Contribute Contribute `yaml:"contribute"`
	Contact    Contact    `yaml:"contact"`
	Welcome    Welcome    `yaml:"welcome"`
	Mail       Mail       `yaml:"mail"`
}

// Mail configures the mailing-list relay. Empty imap.address turns it off.
type Mail struct {
	IMAP    IMAP     `yaml:"imap"`
	ListID  []string `yaml:"list_id"` // accepted List-Ids (any of them), e.g. image-builder.lists.example.org
	Rooms   []string `yaml:"rooms"`
	Replies string   `yaml:"replies"` // thread (default), count or off
	// Backfill is how many existing mails to post on the very first start.
	Backfill int `yaml:"backfill"`
	// ArchiveURL is a link template for lists whose mail carries none
	// (Mailman 2): {msgid} and {hash} (HyperKitty's) are replaced.
	ArchiveURL   string `yaml:"archive_url"`
	MaxMailBytes int    `yaml:"max_mail_bytes"`
	ExcerptChars int    `yaml:"excerpt_chars"`
	// SpamHeader drops mail whose header of that name says yes
	// (e.g. X-Spam-Flag).
	SpamHeader string `yaml:"spam_header"`
}

// IMAP is the mailbox subscribed to the list.
type IMAP struct {
	Address      string        `yaml:"address"` // host:port
	TLS          string        `yaml:"tls"`     // tls (default), starttls, none (loopback only)
	Username     string        `yaml:"username"`
	Password     Secret        `yaml:"password"` // or env IBBOT_IMAP_PASSWORD
	Mailbox      string        `yaml:"mailbox"`
	PollInterval time.Duration `yaml:"poll_interval"` // when the server has no IDLE
	NoopInterval time.Duration `yaml:"noop_interval"` // watchdog: how often a live connection is proven
}

// GitHub configures the API client all features share, and the relay of
// issues, pull requests and releases.
type GitHub struct {
	Token  Secret `yaml:"token"`   // or env IBBOT_GITHUB_TOKEN; empty: 60 requests an hour
	APIURL string `yaml:"api_url"` // GitHub Enterprise, or a test server

	Webhook      Webhook       `yaml:"webhook"`
	PollInterval time.Duration `yaml:"poll_interval"` // 0 turns polling off
	// AggregationWindow holds a new item back this long, so labels that
	// automation adds right after opening count for the filters.
	AggregationWindow time.Duration         `yaml:"aggregation_window"`
	DigestInterval    time.Duration         `yaml:"digest_interval"` // how often bot PRs are summed up
	LinkCooldown      time.Duration         `yaml:"link_cooldown"`   // one link preview per item and room within this
	Subscriptions     []Subscription        `yaml:"subscriptions"`
	Rooms             map[string]GitHubRoom `yaml:"rooms"`
}

// Webhook configures the receiver of GitHub's deliveries.
type Webhook struct {
	Path   string `yaml:"path"`   // empty: no webhook
	Listen string `yaml:"listen"` // empty: served on http.listen
	Secret Secret `yaml:"secret"` // or env IBBOT_GITHUB_WEBHOOK_SECRET
}

// Subscription is one rule: which activity of which repositories goes to
// which rooms.
type Subscription struct {
	Rooms   []string `yaml:"rooms"`
	Repos   []string `yaml:"repos"`  // owner/name; globs like osbuild/* (webhooks only)
	Events  []string `yaml:"events"` // issues, pulls, releases, comments
	Labels  Filter   `yaml:"labels"`
	Authors Filter   `yaml:"authors"`
	Bots    string   `yaml:"bots"`   // show, digest (default) or hide
	Drafts  string   `yaml:"drafts"` // show or hide (default)
}

// Filter includes and excludes by name; an empty include list includes all.
type Filter struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// GitHubRoom holds per-room GitHub settings.
type GitHubRoom struct {
	DefaultRepo string `yaml:"default_repo"` // "#123" in this room means this repo
	NoThreads   bool   `yaml:"no_threads"`   // state changes only edit, no thread lines
}

// Catalog lets an operator override or extend the component catalogue.
type Catalog struct {
	File    string `yaml:"file"`
	Replace bool   `yaml:"replace"`
}

// ProdHash configures where production commits come from and where deploy
// announcements go.
type ProdHash struct {
	SVGURL        string        `yaml:"svg_url"`
	CheckInterval time.Duration `yaml:"check_interval"` // 0 turns deploy announcements off
	CacheTTL      time.Duration `yaml:"cache_ttl"`
	Rooms         []string      `yaml:"rooms"`
	MaxChanges    int           `yaml:"max_changes"` // merged PR titles listed per announcement
	// Sources picks another source per component id: type json or static.
	Sources map[string]HashSource `yaml:"sources"`
}

// HashSource is a non-default production-hash source for one component.
type HashSource struct {
	Type         string `yaml:"type"` // json or static
	URL          string `yaml:"url"`
	Field        string `yaml:"field"`
	AuthHeader   string `yaml:"auth_header"`
	AuthValueEnv string `yaml:"auth_value_env"` // the env variable holding the header's value
	SHA          string `yaml:"sha"`
}

// Contribute configures !contribute's live list of newcomer issues.
type Contribute struct {
	Repos     []string      `yaml:"repos"`
	Labels    []string      `yaml:"labels"`
	MaxIssues int           `yaml:"max_issues"`
	CacheTTL  time.Duration `yaml:"cache_ttl"`
}

// Contact adds to !contact what only the operator knows.
type Contact struct {
	MailingList string `yaml:"mailing_list"` // shown only when set
}

// Welcome greets people joining the listed rooms, once per person ever.
type Welcome struct {
	Rooms []string `yaml:"rooms"`
	// MaxPerMinute bounds greetings during join waves; further joiners in
	// the same minute are greeted together in one message.
	MaxPerMinute int `yaml:"max_per_minute"`
}

// Matrix configures the bot's account, the rooms it serves and how it
// treats commands.
type Matrix struct {
	Homeserver  string    `yaml:"homeserver"`
	UserID      id.UserID `yaml:"user_id"`
	Password    Secret    `yaml:"password"`
	AccessToken Secret    `yaml:"access_token"`
	DeviceName  string    `yaml:"device_name"`
	// Rooms are room ids (!abc:server) or aliases (#name:server) to join and serve.
	Rooms         []string `yaml:"rooms"`
	CommandPrefix string   `yaml:"command_prefix"`
	// CommandMaxAge is how old a command may be and still get an answer,
	// so that commands sent while the bot was down are answered after a
	// restart, but yesterday's are not.
	CommandMaxAge time.Duration `yaml:"command_max_age"`
	// IgnoreUsers are senders whose messages are never treated as commands
	// (other bots).
	IgnoreUsers []id.UserID `yaml:"ignore_users"`
	// AdminPowerLevel is the room power level needed for admin commands.
	AdminPowerLevel int     `yaml:"admin_power_level"`
	Invites         Invites `yaml:"invites"`
	Flood           Flood   `yaml:"flood"`
}

// Invites says whose invitations the bot accepts. Entries are user ids
// (@alice:example.org) or server names (example.org). Others are declined.
type Invites struct {
	Allow []string `yaml:"allow"`
}

// Flood limits how many commands one user may send in a window. Commands 0
// turns the limit off.
type Flood struct {
	Commands int           `yaml:"commands"`
	Window   time.Duration `yaml:"window"`
}

// HTTP configures the operations endpoint (/healthz, /readyz, /metrics).
type HTTP struct {
	Listen string `yaml:"listen"`
}

// Log configures the structured logger.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"` // auto, json or console
}

// Shutdown bounds how long a stop may take to flush the outgoing queue.
type Shutdown struct {
	Timeout time.Duration `yaml:"timeout"`
}

// Defaults returns the configuration every loaded file is laid over.
func Defaults() Config {
	return Config{
		Matrix: Matrix{
			DeviceName:      "ibbot",
			CommandPrefix:   "!",
			CommandMaxAge:   5 * time.Minute,
			AdminPowerLevel: 50,
			Flood:           Flood{Commands: 8, Window: time.Minute},
		},
		Database: "ibbot.db",
		HTTP:     HTTP{Listen: "127.0.0.1:9090"},
		Log:      Log{Level: "info", Format: "auto"},
		Shutdown: Shutdown{Timeout: 10 * time.Second},
		GitHub: GitHub{
			APIURL: "https://api.github.com/", PollInterval: 5 * time.Minute,
			AggregationWindow: 5 * time.Second, DigestInterval: time.Hour, LinkCooldown: 10 * time.Minute,
		},
		ProdHash: ProdHash{
			SVGURL:        "https://raw.githubusercontent.com/osbuild/osbuild.github.io/main/docs/hosted/architecture/architecture.svg",
			CheckInterval: 10 * time.Minute,
			CacheTTL:      5 * time.Minute,
			MaxChanges:    5,
		},
		Contribute: Contribute{
			Repos:     []string{"osbuild/image-builder-frontend", "osbuild/image-builder", "osbuild/osbuild-composer", "osbuild/osbuild", "osbuild/image-builder-crc"},
			Labels:    []string{"good first issue", "cockpit-image-builder", "help wanted"},
			MaxIssues: 5,
			CacheTTL:  time.Hour,
		},
		Welcome: Welcome{MaxPerMinute: 3},
		Mail: Mail{
			IMAP:    IMAP{TLS: "tls", Mailbox: "INBOX", PollInterval: time.Minute, NoopInterval: 4 * time.Minute},
			Replies: "thread", MaxMailBytes: 10 << 20, ExcerptChars: 400,
		},
	}
}

// Validate reports every problem of c, each prefixed with its key path, joined
// into one error; nil means the configuration is usable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	m := &c.Matrix
	if u, err := url.Parse(m.Homeserver); m.Homeserver == "" {
		bad("matrix.homeserver", "is required (e.g. https://matrix.example.org)")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("matrix.homeserver", "%q is not an http(s) URL", m.Homeserver)
	}
	if m.UserID == "" {
		bad("matrix.user_id", "is required (e.g. \"@ibbot:example.org\")")
	} else if _, _, err := m.UserID.ParseAndValidateRelaxed(); err != nil {
		bad("matrix.user_id", "%q is not a Matrix user id: %v", m.UserID, err)
	}
	if m.Password.Value() == "" && m.AccessToken.Value() == "" {
		bad("matrix.password", "either a password or an access_token is required (env IBBOT_MATRIX_PASSWORD or IBBOT_MATRIX_ACCESS_TOKEN)")
	}
	for i, room := range m.Rooms {
		if !validRoomRef(room) {
			bad(fmt.Sprintf("matrix.rooms[%d]", i), "%q is neither a room id (!id:server) nor an alias (#name:server)", room)
		}
	}
	if strings.TrimSpace(m.CommandPrefix) == "" || strings.ContainsAny(m.CommandPrefix, " \t\n") {
		bad("matrix.command_prefix", "must be non-empty and without spaces, got %q", m.CommandPrefix)
	}
	if m.CommandMaxAge <= 0 {
		bad("matrix.command_max_age", "must be positive, got %s", m.CommandMaxAge)
	}
	for i, u := range m.IgnoreUsers {
		if _, _, err := u.ParseAndValidateRelaxed(); err != nil {
			bad(fmt.Sprintf("matrix.ignore_users[%d]", i), "%q is not a Matrix user id", u)
		}
	}
	for i, who := range m.Invites.Allow {
		if who == "" || strings.ContainsAny(who, " \t") {
			bad(fmt.Sprintf("matrix.invites.allow[%d]", i), "%q is neither a user id nor a server name", who)
		}
	}
	if m.Flood.Commands < 0 {
		bad("matrix.flood.commands", "must be 0 (off) or more, got %d", m.Flood.Commands)
	}
	if m.Flood.Commands > 0 && m.Flood.Window <= 0 {
		bad("matrix.flood.window", "must be positive when flood.commands is set, got %s", m.Flood.Window)
	}
	if _, err := DatabaseDriver(c.Database); err != nil {
		bad("database", "%v", err)
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); c.HTTP.Listen != "" && err != nil {
		bad("http.listen", "%q is not host:port: %v", c.HTTP.Listen, err)
	}
	if _, err := zerolog.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
		bad("log.level", "%q is not one of trace, debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "auto", "json", "console":
	default:
		bad("log.format", "%q is not one of auto, json, console", c.Log.Format)
	}
	if c.Shutdown.Timeout <= 0 {
		bad("shutdown.timeout", "must be positive, got %s", c.Shutdown.Timeout)
	}
	if !isHTTPURL(c.GitHub.APIURL) {
		bad("github.api_url", "%q is not an http(s) URL", c.GitHub.APIURL)
	}
	c.validateProdHash(bad)
	c.validateGitHub(bad)
	c.validateMail(bad)
	for i, r := range c.Contribute.Repos {
		if strings.Count(r, "/") != 1 {
			bad(fmt.Sprintf("contribute.repos[%d]", i), "%q is not owner/name", r)
		}
	}
	if c.Contribute.MaxIssues < 0 {
		bad("contribute.max_issues", "must be 0 or more")
	}
	for i, room := range c.Welcome.Rooms {
		if !validRoomRef(room) {
			bad(fmt.Sprintf("welcome.rooms[%d]", i), "%q is neither a room id nor an alias", room)
		}
	}
	if len(c.Welcome.Rooms) > 0 && c.Welcome.MaxPerMinute <= 0 {
		bad("welcome.max_per_minute", "must be positive")
	}
	return errors.Join(errs...)
}

func (c *Config) validateProdHash(bad func(key, format string, args ...any)) {
	p := &c.ProdHash
	if !isHTTPURL(p.SVGURL) {
		bad("prodhash.svg_url", "%q is not an http(s) URL", p.SVGURL)
	}
	if p.CheckInterval < 0 || (p.CheckInterval > 0 && p.CheckInterval < 10*time.Second) {
		bad("prodhash.check_interval", "must be 0 (off) or at least 10s, got %s", p.CheckInterval)
	}
	if p.CacheTTL < 0 {
		bad("prodhash.cache_ttl", "must not be negative")
	}
	for i, room := range p.Rooms {
		if !validRoomRef(room) {
			bad(fmt.Sprintf("prodhash.rooms[%d]", i), "%q is neither a room id nor an alias", room)
		}
	}
	for id, src := range p.Sources {
		key := "prodhash.sources." + id
		switch src.Type {
		case "json":
			if !isHTTPURL(src.URL) {
				bad(key+".url", "%q is not an http(s) URL", src.URL)
			}
			if src.Field == "" {
				bad(key+".field", "is required for a json source (e.g. src_hash)")
			}
		case "static":
			if len(src.SHA) < 7 || strings.Trim(strings.ToLower(src.SHA), "0123456789abcdef") != "" {
				bad(key+".sha", "%q is not a commit sha", src.SHA)
			}
		default:
			bad(key+".type", "%q is not one of json, static", src.Type)
		}
	}
}

func (c *Config) validateGitHub(bad func(key, format string, args ...any)) {
	g := &c.GitHub
	if g.Webhook.Path != "" {
		if !strings.HasPrefix(g.Webhook.Path, "/") {
			bad("github.webhook.path", "%q must start with /", g.Webhook.Path)
		}
		if g.Webhook.Secret.Value() == "" {
			bad("github.webhook.secret", "is required with a webhook path (env IBBOT_GITHUB_WEBHOOK_SECRET): unsigned deliveries are refused")
		}
		if g.Webhook.Listen == "" && c.HTTP.Listen == "" {
			bad("github.webhook.listen", "is required when http.listen is off")
		}
	}
	if _, _, err := net.SplitHostPort(g.Webhook.Listen); g.Webhook.Listen != "" && err != nil {
		bad("github.webhook.listen", "%q is not host:port", g.Webhook.Listen)
	}
	if g.PollInterval < 0 || (g.PollInterval > 0 && g.PollInterval < 30*time.Second) {
		bad("github.poll_interval", "must be 0 (off) or at least 30s, got %s", g.PollInterval)
	}
	if g.AggregationWindow < 0 || g.AggregationWindow > 10*time.Minute {
		bad("github.aggregation_window", "must be between 0 and 10m, got %s", g.AggregationWindow)
	}
	if g.DigestInterval <= 0 {
		bad("github.digest_interval", "must be positive")
	}
	for i, sub := range g.Subscriptions {
		key := fmt.Sprintf("github.subscriptions[%d]", i)
		if len(sub.Rooms) == 0 {
			bad(key+".rooms", "is required")
		}
		for j, r := range sub.Rooms {
			if !validRoomRef(r) {
				bad(fmt.Sprintf("%s.rooms[%d]", key, j), "%q is neither a room id nor an alias", r)
			}
		}
		if len(sub.Repos) == 0 {
			bad(key+".repos", "is required (owner/name, globs allowed)")
		}
		for j, r := range sub.Repos {
			if strings.Count(r, "/") != 1 {
				bad(fmt.Sprintf("%s.repos[%d]", key, j), "%q is not owner/name", r)
			}
		}
		for j, e := range sub.Events {
			switch e {
			case "issues", "pulls", "releases", "comments":
			default:
				bad(fmt.Sprintf("%s.events[%d]", key, j), "%q is not one of issues, pulls, releases, comments", e)
			}
		}
		switch sub.Bots {
		case "", "show", "digest", "hide":
		default:
			bad(key+".bots", "%q is not one of show, digest, hide", sub.Bots)
		}
		switch sub.Drafts {
		case "", "show", "hide":
		default:
			bad(key+".drafts", "%q is not one of show, hide", sub.Drafts)
		}
	}
	for room, rc := range g.Rooms {
		if !validRoomRef(room) {
			bad("github.rooms."+room, "is neither a room id nor an alias")
		}
		if rc.DefaultRepo != "" && strings.Count(rc.DefaultRepo, "/") != 1 {
			bad("github.rooms."+room+".default_repo", "%q is not owner/name", rc.DefaultRepo)
		}
	}
}

func (c *Config) validateMail(bad func(key, format string, args ...any)) {
	m := &c.Mail
	if m.IMAP.Address == "" {
		return
	}
	host, _, err := net.SplitHostPort(m.IMAP.Address)
	if err != nil {
		bad("mail.imap.address", "%q is not host:port", m.IMAP.Address)
	}
	switch m.IMAP.TLS {
	case "tls", "starttls":
	case "none":
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			bad("mail.imap.tls", "none is allowed on loopback only; %s would send the password in clear", host)
		}
	default:
		bad("mail.imap.tls", "%q is not one of tls, starttls, none", m.IMAP.TLS)
	}
	if m.IMAP.Username == "" {
		bad("mail.imap.username", "is required")
	}
	if m.IMAP.Password.Value() == "" {
		bad("mail.imap.password", "is required (or env IBBOT_IMAP_PASSWORD)")
	}
	if len(m.ListID) == 0 {
		bad("mail.list_id", "is required: the List-Id of the list to relay (other mail is ignored)")
	}
	if len(m.Rooms) == 0 {
		bad("mail.rooms", "is required")
	}
	for i, r := range m.Rooms {
		if !validRoomRef(r) {
			bad(fmt.Sprintf("mail.rooms[%d]", i), "%q is neither a room id nor an alias", r)
		}
	}
	switch m.Replies {
	case "thread", "count", "off":
	default:
		bad("mail.replies", "%q is not one of thread, count, off", m.Replies)
	}
	if m.Backfill < 0 {
		bad("mail.backfill", "must be 0 or more")
	}
	if m.IMAP.PollInterval <= 0 || m.IMAP.NoopInterval <= 0 {
		bad("mail.imap.poll_interval", "poll_interval and noop_interval must be positive")
	}
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// DatabaseDriver tells which store a database setting selects: a
// postgres:// or postgresql:// URL, or else a SQLite file path.
func DatabaseDriver(db string) (string, error) {
	scheme, _, isURL := strings.Cut(db, "://")
	switch {
	case db == "":
		return "", errors.New("is required: a SQLite file path or a postgres:// URL")
	case scheme == "postgres" || scheme == "postgresql":
		u, err := url.Parse(db)
		if err != nil || u.Host == "" {
			return "", errors.New("is not a PostgreSQL URL like postgres://ibbot@db.example.org/ibbot")
		}
		return "postgres", nil
	case isURL && !strings.ContainsAny(scheme, "/."):
		return "", fmt.Errorf("%s:// is not supported: use a SQLite file path or a postgres:// URL", scheme)
	default:
		return "sqlite", nil
	}
}

func validRoomRef(s string) bool {
	if len(s) < 4 || (s[0] != '!' && s[0] != '#') {
		return false
	}
	i := strings.IndexByte(s, ':')
	return i > 1 && i < len(s)-1 && !strings.ContainsAny(s, " \t\n")
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
