// Package config holds ibbot's typed configuration: defaults, loading from YAML
// plus environment variables and files for secrets, and validation that names
// the key at fault for every problem.
package config

import (
	"slices"
	"time"
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
	Search     Search     `yaml:"search"`
	Alerts     Alerts     `yaml:"alerts"`
	Incidents  Incidents  `yaml:"incidents"`
	Meetings   Meetings   `yaml:"meetings"`
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
			OAuth:   GitHubOAuth{WebURL: "https://github.com", Scopes: []string{"public_repo"}},
			Reviews: Reviews{DigestAt: "09:30", Timezone: "UTC", Weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Wait: 48 * time.Hour},
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
			SMTP:        SMTP{TLS: TLSStartTLS, Auth: AuthPassword, OAuth2: OAuth2{Mechanism: MechXOAuth2}},
			ChatReplies: ChatReplies{PerHour: 5, MaxChars: 5000},
			Replies:     RepliesThread, MaxMailBytes: 10 << 20, ExcerptChars: 400,
		},
		Retention: Retention{Outbox: 7 * 24 * time.Hour, Relations: 365 * 24 * time.Hour, Deliveries: 30 * 24 * time.Hour},
		Search:    Search{Refresh: 6 * time.Hour},
		Incidents: Incidents{PollInterval: 2 * time.Minute},
		Meetings: Meetings{Enabled: true, PowerLevel: 50, MaxDuration: 3 * time.Hour, RemindBefore: 10 * time.Minute,
			Refresh: 15 * time.Minute},
	}
}

// placeholders are values people write where a real one must go (the
// example config once had password: change-me); such a value would only
// fail later, at a login, with a less helpful error.
var placeholders = []string{"change-me", "changeme", "change_me", "replace-me", "replaceme", "secret", "password",
	"todo", "xxx", "token", "your-password", "your-token", "..."}

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
	for _, r := range c.Alerts.Routes {
		add(r.Rooms...)
	}
	add(c.Incidents.Rooms...)
	add(c.GitHub.Reviews.Rooms...)
	if c.Meetings.Calendar != "" {
		add(c.Meetings.Rooms...)
	}
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
