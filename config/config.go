// Package config holds ibbot's typed configuration: defaults, loading from YAML
// plus environment variables and files for secrets, and validation that names
// the key at fault for every problem.
package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/suggest"
)

// Config is the whole configuration of one ibbot instance.
type Config struct {
	Matrix     Matrix     `yaml:"matrix"`
	Database   string     `yaml:"database"`
	Leader     Leader     `yaml:"leader"`
	Encryption Encryption `yaml:"encryption"`
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
	Retention  Retention  `yaml:"retention"`
	Status     Status     `yaml:"status"`
}

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

// Enum-like settings are typed, so a consumer cannot compare against a
// misspelt literal; Validate checks each against its constants.
type (
	// TLSMode is how the IMAP connection is secured.
	TLSMode string
	// Replies is what the mail relay does with replies.
	Replies string
	// BotPolicy is how bot pull requests are shown.
	BotPolicy string
	// DraftPolicy is how draft pull requests are shown.
	DraftPolicy string
	// Event is a kind of GitHub activity a subscription relays.
	Event string
	// LogFormat is how log lines are written.
	LogFormat string
	// SourceType is a kind of production-hash source.
	SourceType string
	// IMAPAuth is how the mailbox logs in.
	IMAPAuth string
	// SASLMech is the SASL mechanism of an OAuth 2.0 login.
	SASLMech string
)

const (
	TLSImplicit TLSMode = "tls"
	TLSStartTLS TLSMode = "starttls"
	TLSNone     TLSMode = "none" // loopback only

	RepliesThread Replies = "thread"
	RepliesCount  Replies = "count"
	RepliesOff    Replies = "off"

	BotsShow   BotPolicy = "show"
	BotsDigest BotPolicy = "digest"
	BotsHide   BotPolicy = "hide"

	DraftsShow DraftPolicy = "show"
	DraftsHide DraftPolicy = "hide"

	EventIssues   Event = "issues"
	EventPulls    Event = "pulls"
	EventReleases Event = "releases"
	EventComments Event = "comments"
	// EventCI: a workflow failing on the default branch, and fixed again.
	EventCI Event = "ci"
	// EventDiscussions: new GitHub Discussions and their answers.
	EventDiscussions Event = "discussions"
	// EventReviews: review requests and verdicts, in announced pull
	// requests' threads.
	EventReviews Event = "reviews"

	LogAuto    LogFormat = "auto"
	LogJSON    LogFormat = "json"
	LogConsole LogFormat = "console"

	SourceJSON   SourceType = "json"
	SourceStatic SourceType = "static"

	AuthPassword IMAPAuth = "password"
	AuthOAuth2   IMAPAuth = "oauth2"

	MechXOAuth2     SASLMech = "xoauth2"
	MechOAuthBearer SASLMech = "oauthbearer"
)

// DefaultEvents are what a subscription without events relays.
var DefaultEvents = []Event{EventIssues, EventPulls, EventReleases}

// Mail configures the mailing-list relay. Empty imap.address turns it off.
type Mail struct {
	IMAP   IMAP     `yaml:"imap"`
	ListID []string `yaml:"list_id"` // accepted List-Ids (any of them), e.g. image-builder.lists.example.org
	// AllowedLists bound what rooms may subscribe to in chat (!ml
	// subscribe); empty: the lists of list_id.
	AllowedLists []string `yaml:"allowed_lists"`
	Rooms        []string `yaml:"rooms"`
	Replies      Replies  `yaml:"replies"`
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
	Address string  `yaml:"address"` // host:port
	TLS     TLSMode `yaml:"tls"`
	// CAFile is a PEM file of extra CAs trusted for the IMAP server's
	// certificate (a company's private CA); the system roots stay trusted.
	CAFile       string        `yaml:"ca_file"`
	Username     string        `yaml:"username"`
	Auth         IMAPAuth      `yaml:"auth"`     // password (default) or oauth2
	Password     Secret        `yaml:"password"` // or env IBBOT_IMAP_PASSWORD
	OAuth2       OAuth2        `yaml:"oauth2"`
	Mailbox      string        `yaml:"mailbox"`
	PollInterval time.Duration `yaml:"poll_interval"` // when the server has no IDLE
	NoopInterval time.Duration `yaml:"noop_interval"` // watchdog: how often a live connection is proven
}

// OAuth2 is a mailbox login through OAuth 2.0 (Gmail, Microsoft 365): the
// bot trades the refresh token for access tokens and logs in with SASL.
type OAuth2 struct {
	TokenURL     string   `yaml:"token_url"`
	AuthURL      string   `yaml:"auth_url"` // for ibbot mail-login only
	ClientID     string   `yaml:"client_id"`
	ClientSecret Secret   `yaml:"client_secret"` // or env IBBOT_IMAP_OAUTH2_CLIENT_SECRET
	RefreshToken Secret   `yaml:"refresh_token"` // or env IBBOT_IMAP_OAUTH2_REFRESH_TOKEN
	Scopes       []string `yaml:"scopes"`
	Mechanism    SASLMech `yaml:"mechanism"` // xoauth2 (default) or oauthbearer
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
	AggregationWindow time.Duration `yaml:"aggregation_window"`
	DigestInterval    time.Duration `yaml:"digest_interval"` // how often bot PRs are summed up
	LinkCooldown      time.Duration `yaml:"link_cooldown"`   // one link preview per item and room within this
	// LinkRepos are repositories (globs allowed) whose issues any room may
	// preview and look up with !issue, besides those the room follows.
	LinkRepos []string `yaml:"link_repos"`
	// AllowedRepos (globs) bound what rooms may subscribe to and preview
	// from chat; empty: every repository of the owners the subscriptions
	// name. A private repository must be named outright by the config.
	AllowedRepos  []string              `yaml:"allowed_repos"`
	Subscriptions []Subscription        `yaml:"subscriptions"`
	Rooms         map[string]GitHubRoom `yaml:"rooms"`
}

// Webhook configures the receiver of GitHub's deliveries.
type Webhook struct {
	Path   string `yaml:"path"`   // empty: no webhook
	Listen string `yaml:"listen"` // empty: served on http.listen
	Secret Secret `yaml:"secret"` // or env IBBOT_GITHUB_WEBHOOK_SECRET
	// MaxConcurrent bounds the verified deliveries recorded at once; more wait.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxBody is the largest delivery taken, in bytes.
	MaxBody int `yaml:"max_body"`
}

// Subscription is one rule: which activity of which repositories goes to
// which rooms.
type Subscription struct {
	Rooms   []string    `yaml:"rooms"`
	Repos   []string    `yaml:"repos"`  // owner/name; globs like osbuild/* (webhooks only)
	Events  []Event     `yaml:"events"` // default DefaultEvents
	Labels  Filter      `yaml:"labels"`
	Authors Filter      `yaml:"authors"`
	Bots    BotPolicy   `yaml:"bots"`   // default digest
	Drafts  DraftPolicy `yaml:"drafts"` // default hide
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
	Type         SourceType `yaml:"type"`
	URL          string     `yaml:"url"`
	Field        string     `yaml:"field"`
	AuthHeader   string     `yaml:"auth_header"`
	AuthValueEnv string     `yaml:"auth_value_env"` // the env variable holding the header's value
	SHA          string     `yaml:"sha"`
	// AuthValue is the header's value, read from AuthValueEnv at load.
	AuthValue Secret `yaml:"-"`
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

// Encryption is end-to-end encryption in encrypted rooms and direct
// chats (builds with -tags goolm).
type Encryption struct {
	Enabled bool `yaml:"enabled"`
	// PickleKey encrypts the bot's crypto keys at rest in the database.
	PickleKey Secret `yaml:"pickle_key"` // or env IBBOT_PICKLE_KEY
	// RecoveryKey unlocks the cross-signing keys kept (encrypted) on the
	// homeserver, so a bot whose database was lost can sign its new device.
	RecoveryKey Secret `yaml:"recovery_key"` // or env IBBOT_RECOVERY_KEY
	// ShareKeysWith says which devices get the keys to the bot's messages.
	ShareKeysWith KeySharing `yaml:"share_keys_with"`
}

// KeySharing selects the devices room keys are shared with.
type KeySharing string

const (
	ShareWithAll         KeySharing = "all"          // every device of the room's members
	ShareWithCrossSigned KeySharing = "cross-signed" // only devices their owners cross-signed
)

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
		Database:   "ibbot.db",
		HTTP:       HTTP{Listen: "127.0.0.1:9090"},
		Log:        Log{Level: "info", Format: LogAuto},
		Leader:     Leader{Heartbeat: time.Second, Timeout: 5 * time.Second},
		Encryption: Encryption{Enabled: true, ShareKeysWith: ShareWithAll},
		Shutdown:   Shutdown{Timeout: 10 * time.Second},
		GitHub: GitHub{
			APIURL: "https://api.github.com/", PollInterval: 5 * time.Minute,
			AggregationWindow: 5 * time.Second, DigestInterval: time.Hour, LinkCooldown: 10 * time.Minute,
			Webhook: Webhook{MaxConcurrent: 16, MaxBody: 1 << 20},
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
			IMAP: IMAP{TLS: TLSImplicit, Mailbox: "INBOX", PollInterval: time.Minute, NoopInterval: 4 * time.Minute,
				Auth: AuthPassword, OAuth2: OAuth2{Mechanism: MechXOAuth2}},
			Replies: RepliesThread, MaxMailBytes: 10 << 20, ExcerptChars: 400,
		},
		Retention: Retention{Outbox: 7 * 24 * time.Hour, Relations: 365 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour},
	}
}

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

func (c *Config) checkEncryption(ch *checker) {
	e := c.Encryption
	oneOf(ch, "encryption.share_keys_with", e.ShareKeysWith, ShareWithAll, ShareWithCrossSigned)
	// Without a pickle key the bot generates one and keeps it in the
	// database (and says so): encryption works from the first start, and
	// an operator who keeps the key apart from the data sets it.
	if k := e.PickleKey.Value(); k != "" && len(k) < 16 {
		ch.bad("encryption.pickle_key", "must be at least 16 characters (e.g. `openssl rand -hex 32`), got %d", len(k))
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
	ch.repos("contribute.repos", c.Contribute.Repos, false)
	ch.ints("contribute.max_issues", c.Contribute.MaxIssues, 0, 20, "no search")
	ch.durations("contribute.cache_ttl", c.Contribute.CacheTTL, time.Minute, 7*24*time.Hour, "search every time")
	ch.rooms("welcome.rooms", c.Welcome.Rooms, false)
	ch.ints("welcome.max_per_minute", c.Welcome.MaxPerMinute, 1, 60, "")
	return ch.errs
}

func (c *Config) checkMatrix(ch *checker) {
	m := &c.Matrix
	if u, err := url.Parse(m.Homeserver); m.Homeserver == "" {
		ch.bad("matrix.homeserver", "is required (e.g. https://matrix.example.org)")
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		ch.bad("matrix.homeserver", "%q is not an http(s) URL", m.Homeserver)
	}
	if m.UserID == "" {
		ch.bad("matrix.user_id", "is required (e.g. \"@ibbot:example.org\")")
	} else if _, _, err := m.UserID.ParseAndValidateRelaxed(); err != nil {
		ch.bad("matrix.user_id", "%q is not a Matrix user id: %v", m.UserID, err)
	}
	// Neither password nor access_token is required: a session stored by
	// `ibbot login` (single sign-on) does too. The bot says at start when
	// it has nothing to log in with.
	ch.rooms("matrix.rooms", m.Rooms, false)
	if strings.TrimSpace(m.CommandPrefix) == "" || strings.ContainsAny(m.CommandPrefix, " \t\n") {
		ch.bad("matrix.command_prefix", "must be non-empty and without spaces, got %q", m.CommandPrefix)
	}
	ch.durations("matrix.command_max_age", m.CommandMaxAge, time.Second, 24*time.Hour, "")
	for i, u := range m.IgnoreUsers {
		if _, _, err := u.ParseAndValidateRelaxed(); err != nil {
			ch.bad(fmt.Sprintf("matrix.ignore_users[%d]", i), "%q is not a Matrix user id", u)
		}
	}
	if m.AdminPowerLevel < 0 {
		ch.bad("matrix.admin_power_level", "must be 0 or more, got %d", m.AdminPowerLevel)
	}
	for i, who := range m.Invites.Allow {
		if who == "" || strings.ContainsAny(who, " \t") {
			ch.bad(fmt.Sprintf("matrix.invites.allow[%d]", i), "%q is neither a user id nor a server name", who)
		}
	}
	ch.ints("matrix.flood.commands", m.Flood.Commands, 0, 1000, "no limit")
	if m.Flood.Commands > 0 {
		ch.durations("matrix.flood.window", m.Flood.Window, time.Second, 24*time.Hour, "")
	}
}

// placeholders are values people write where a real one must go (the
// example config once had password: change-me); such a value would only
// fail later, at a login, with a less helpful error.
var placeholders = []string{"change-me", "changeme", "change_me", "replace-me", "replaceme", "secret", "password",
	"todo", "xxx", "token", "your-password", "your-token", "..."}

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

func (c *Config) checkProdHash(ch *checker) {
	p := &c.ProdHash
	if !isHTTPURL(p.SVGURL) {
		ch.bad("prodhash.svg_url", "%q is not an http(s) URL", p.SVGURL)
	}
	ch.durations("prodhash.check_interval", p.CheckInterval, 10*time.Second, 24*time.Hour, "no deploy announcements")
	ch.durations("prodhash.cache_ttl", p.CacheTTL, time.Second, 24*time.Hour, "ask every time")
	ch.rooms("prodhash.rooms", p.Rooms, false)
	ch.ints("prodhash.max_changes", p.MaxChanges, 0, 50, "list none")
	for _, id := range sortedKeys(p.Sources) {
		src, key := p.Sources[id], "prodhash.sources."+id
		switch src.Type {
		case SourceJSON:
			if !isHTTPURL(src.URL) {
				ch.bad(key+".url", "%q is not an http(s) URL", src.URL)
			}
			if src.Field == "" {
				ch.bad(key+".field", "is required for a json source (e.g. src_hash)")
			}
			if (src.AuthHeader == "") != (src.AuthValueEnv == "") {
				ch.bad(key+".auth_value_env", "auth_header and auth_value_env go together")
			} else if src.AuthHeader != "" && src.AuthValue.Value() == "" {
				ch.bad(key+".auth_value_env", "the environment variable %s is not set (or empty)", src.AuthValueEnv)
			}
		case SourceStatic:
			if len(src.SHA) < 7 || strings.Trim(strings.ToLower(src.SHA), "0123456789abcdef") != "" {
				ch.bad(key+".sha", "%q is not a commit sha", src.SHA)
			}
		default:
			oneOf(ch, key+".type", src.Type, SourceJSON, SourceStatic)
		}
	}
}

func (c *Config) checkGitHub(ch *checker) {
	g := &c.GitHub
	if g.Webhook.Path != "" {
		if !strings.HasPrefix(g.Webhook.Path, "/") {
			ch.bad("github.webhook.path", "%q must start with /", g.Webhook.Path)
		}
		if g.Webhook.Secret.Value() == "" {
			ch.bad("github.webhook.secret", "is required with a webhook path (env IBBOT_GITHUB_WEBHOOK_SECRET): unsigned deliveries are refused")
		}
		if g.Webhook.Listen == "" && c.HTTP.Listen == "" {
			ch.bad("github.webhook.listen", "is required when http.listen is off")
		}
	}
	if _, _, err := net.SplitHostPort(g.Webhook.Listen); g.Webhook.Listen != "" && err != nil {
		ch.bad("github.webhook.listen", "%q is not host:port", g.Webhook.Listen)
	}
	ch.ints("github.webhook.max_concurrent", g.Webhook.MaxConcurrent, 1, 1000, "")
	ch.ints("github.webhook.max_body", g.Webhook.MaxBody, 64<<10, 25<<20, "")
	ch.durations("github.poll_interval", g.PollInterval, 30*time.Second, 24*time.Hour, "no polling")
	ch.durations("github.aggregation_window", g.AggregationWindow, time.Second, 10*time.Minute, "post at once")
	ch.durations("github.digest_interval", g.DigestInterval, time.Minute, 7*24*time.Hour, "")
	ch.durations("github.link_cooldown", g.LinkCooldown, time.Second, 7*24*time.Hour, "preview every mention")
	ch.repos("github.link_repos", g.LinkRepos, true)
	ch.repos("github.allowed_repos", g.AllowedRepos, true)
	for i, sub := range g.Subscriptions {
		key := fmt.Sprintf("github.subscriptions[%d]", i)
		ch.rooms(key+".rooms", sub.Rooms, true)
		if len(sub.Repos) == 0 {
			ch.bad(key+".repos", "is required (owner/name, globs allowed)")
		}
		ch.repos(key+".repos", sub.Repos, true)
		if len(sub.Events) == 0 {
			ch.bad(key+".events", "must name at least one of issues, pulls, releases, comments (leave the key out for issues, pulls, releases)")
		}
		for j, e := range sub.Events {
			oneOf(ch, fmt.Sprintf("%s.events[%d]", key, j), e, EventIssues, EventPulls, EventReleases, EventComments, EventCI, EventDiscussions, EventReviews)
		}
		oneOf(ch, key+".bots", sub.Bots, BotsShow, BotsDigest, BotsHide)
		oneOf(ch, key+".drafts", sub.Drafts, DraftsShow, DraftsHide)
	}
	for _, room := range sortedKeys(g.Rooms) {
		rc := g.Rooms[room]
		if !validRoomRef(room) {
			ch.bad("github.rooms."+room, "is neither a room id nor an alias")
		}
		if rc.DefaultRepo != "" && !ValidRepo(rc.DefaultRepo, false) {
			ch.bad("github.rooms."+room+".default_repo", "%q is not owner/name", rc.DefaultRepo)
		}
	}
}

func (c *Config) checkMail(ch *checker) {
	m := &c.Mail
	if m.IMAP.Address == "" {
		return
	}
	host, _, err := net.SplitHostPort(m.IMAP.Address)
	if err != nil {
		ch.bad("mail.imap.address", "%q is not host:port", m.IMAP.Address)
	}
	oneOf(ch, "mail.imap.tls", m.IMAP.TLS, TLSImplicit, TLSStartTLS, TLSNone)
	if m.IMAP.TLS == TLSNone {
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			ch.bad("mail.imap.tls", "none is allowed on loopback only; %s would send the password in clear", host)
		}
	}
	if m.IMAP.CAFile != "" {
		if _, err := LoadCAFile(m.IMAP.CAFile); err != nil {
			ch.bad("mail.imap.ca_file", "%v", err)
		}
	}
	if m.IMAP.Username == "" {
		ch.bad("mail.imap.username", "is required")
	}
	oneOf(ch, "mail.imap.auth", m.IMAP.Auth, AuthPassword, AuthOAuth2)
	switch m.IMAP.Auth {
	case AuthPassword:
		if m.IMAP.Password.Value() == "" {
			ch.bad("mail.imap.password", "is required (or env IBBOT_IMAP_PASSWORD)")
		}
	case AuthOAuth2:
		checkOAuth2(ch, m.IMAP.OAuth2)
	}
	if m.IMAP.Mailbox == "" {
		ch.bad("mail.imap.mailbox", "is required (usually INBOX)")
	}
	ch.durations("mail.imap.poll_interval", m.IMAP.PollInterval, time.Second, 24*time.Hour, "")
	// RFC 2177: a server may drop a connection idle for 30 minutes.
	ch.durations("mail.imap.noop_interval", m.IMAP.NoopInterval, time.Second, 29*time.Minute, "")
	if len(m.ListID) == 0 {
		ch.bad("mail.list_id", "is required: the List-Id of the list to relay (other mail is ignored)")
	}
	ch.rooms("mail.rooms", m.Rooms, true)
	for i, l := range m.AllowedLists {
		if !strings.Contains(l, ".") || strings.ContainsAny(l, " <>@") {
			ch.bad(fmt.Sprintf("mail.allowed_lists[%d]", i), "%q is not a List-Id (like image-builder.lists.example.org)", l)
		}
	}
	oneOf(ch, "mail.replies", m.Replies, RepliesThread, RepliesCount, RepliesOff)
	ch.ints("mail.backfill", m.Backfill, 0, 1000, "none")
	ch.ints("mail.max_mail_bytes", m.MaxMailBytes, 4<<10, 100<<20, "")
	ch.ints("mail.excerpt_chars", m.ExcerptChars, 0, 4000, "no excerpt")
	if m.ArchiveURL != "" && !strings.Contains(m.ArchiveURL, "{msgid}") && !strings.Contains(m.ArchiveURL, "{hash}") {
		ch.bad("mail.archive_url", "%q names neither {msgid} nor {hash}: every mail would link to the same page", m.ArchiveURL)
	}
	if m.ArchiveURL != "" && !isHTTPURL(strings.NewReplacer("{msgid}", "x", "{hash}", "x").Replace(m.ArchiveURL)) {
		ch.bad("mail.archive_url", "%q is not an http(s) URL", m.ArchiveURL)
	}
}

func checkOAuth2(ch *checker, o OAuth2) {
	if !isHTTPURL(o.TokenURL) {
		ch.bad("mail.imap.oauth2.token_url", "is required with auth: oauth2: the provider's token endpoint, e.g. https://oauth2.googleapis.com/token")
	}
	if o.AuthURL != "" && !isHTTPURL(o.AuthURL) {
		ch.bad("mail.imap.oauth2.auth_url", "%q is not an http(s) URL", o.AuthURL)
	}
	if o.ClientID == "" {
		ch.bad("mail.imap.oauth2.client_id", "is required with auth: oauth2: the app's client id at the provider")
	}
	if o.RefreshToken.Value() == "" {
		ch.bad("mail.imap.oauth2.refresh_token", "is required with auth: oauth2 (or env IBBOT_IMAP_OAUTH2_REFRESH_TOKEN); `ibbot mail-login` gets one")
	}
	oneOf(ch, "mail.imap.oauth2.mechanism", o.Mechanism, MechXOAuth2, MechOAuthBearer)
}

// AllRooms is every room the configuration names, in any list, each once
// and in the order first named: the bot joins all of them at start.
func (c *Config) AllRooms() []string {
	var out []string
	add := func(rooms ...string) {
		for _, r := range rooms {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	add(c.Matrix.Rooms...)
	add(c.Welcome.Rooms...)
	add(c.ProdHash.Rooms...)
	add(c.Mail.Rooms...)
	for _, s := range c.GitHub.Subscriptions {
		add(s.Rooms...)
	}
	add(sortedKeys(c.GitHub.Rooms)...)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// ChatLists are the lists rooms may subscribe to in chat:
// mail.allowed_lists, or by default mail.list_id.
func (m Mail) ChatLists() []string {
	if len(m.AllowedLists) > 0 {
		return m.AllowedLists
	}
	return m.ListID
}

// ChatScope is what chat may reach of GitHub: allowed, the globs rooms
// may subscribe to and preview (github.allowed_repos, or by default every
// repository of the owners the subscriptions name), and named, the
// repositories the config names outright (only those may be private).
func (g GitHub) ChatScope() (allowed, named []string) {
	allowed = slices.Clone(g.AllowedRepos)
	for _, s := range g.Subscriptions {
		for _, r := range s.Repos {
			owner, _, _ := strings.Cut(strings.ToLower(r), "/")
			if len(g.AllowedRepos) == 0 && !slices.Contains(allowed, owner+"/*") {
				allowed = append(allowed, owner+"/*")
			}
		}
	}
	for _, list := range [][]string{g.AllowedRepos, g.LinkRepos, g.subscribedRepos()} {
		for _, r := range list {
			if !strings.ContainsAny(r, "*?[") && !slices.Contains(named, strings.ToLower(r)) {
				named = append(named, strings.ToLower(r))
			}
		}
	}
	return allowed, named
}

// PolledRepos are the repositories the subscriptions name outright (no
// globs), each once, lowercase: what the poller reads before any room
// adds its own.
func (g GitHub) PolledRepos() []string {
	var out []string
	for _, r := range g.subscribedRepos() {
		if !strings.ContainsAny(r, "*?[") && !slices.Contains(out, strings.ToLower(r)) {
			out = append(out, strings.ToLower(r))
		}
	}
	return out
}

func (g GitHub) subscribedRepos() []string {
	var out []string
	for _, s := range g.Subscriptions {
		out = append(out, s.Repos...)
	}
	return out
}

// ValidRepo reports whether s is owner/name as GitHub allows them (with
// globs in either part when globs is set). It keeps "..", slashes and
// other path tricks out of API paths built from it.
func ValidRepo(s string, globs bool) bool {
	owner, name, ok := strings.Cut(s, "/")
	if !ok {
		return false
	}
	extra := ""
	if globs {
		extra = "*?[]"
	}
	return validPart(owner, 39, "-"+extra) && validPart(name, 100, "-_."+extra) && name != "." && name != ".."
}

func validPart(s string, maxLen int, allowed string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(allowed, r)) {
			return false
		}
	}
	return true
}

// LoadCAFile reads a PEM file of CA certificates into the system's pool
// (so the usual roots stay trusted).
func LoadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
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
