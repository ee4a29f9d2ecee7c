package config

// The github: section (the API client, webhook, subscriptions, per-room settings) and its checks.

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// DefaultEvents are what a subscription without events relays.
var DefaultEvents = []Event{EventIssues, EventPulls, EventReleases}

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
	// Reviews is the review queue of outside pull requests.
	Reviews Reviews `yaml:"reviews"`
	// OAuth lets people act on GitHub as themselves (!gh login).
	OAuth GitHubOAuth `yaml:"oauth"`
}

// GitHubOAuth is the OAuth app (or GitHub App with the device flow
// enabled) people log in through.
type GitHubOAuth struct {
	ClientID     string   `yaml:"client_id"`     // "": no !gh login
	ClientSecret Secret   `yaml:"client_secret"` // optional, env IBBOT_GITHUB_OAUTH_CLIENT_SECRET: lets !gh logout revoke the token
	WebURL       string   `yaml:"web_url"`       // where the device flow runs; default https://github.com
	Scopes       []string `yaml:"scopes"`        // an OAuth app's scopes; default public_repo
	// TokenKey encrypts the people's tokens in the database (env
	// IBBOT_GITHUB_TOKEN_KEY); default encryption.pickle_key.
	TokenKey Secret `yaml:"token_key"`
	// Echo announces, in an item's thread, the comments people made
	// from chat (default: not, they said it there).
	Echo bool `yaml:"echo"`
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

func (c *Config) checkGitHub(ch *checker) {
	c.checkReviews(ch)
	c.checkOAuth(ch)
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

func (c *Config) checkOAuth(ch *checker) {
	o := c.GitHub.OAuth
	if o.ClientID == "" {
		return
	}
	if o.WebURL != "" && !isHTTPURL(o.WebURL) {
		ch.bad("github.oauth.web_url", "%q is not an http(s) URL", o.WebURL)
	}
	if o.TokenKey.Value() == "" && c.Encryption.PickleKey.Value() == "" {
		ch.bad("github.oauth.token_key", "is required (env IBBOT_GITHUB_TOKEN_KEY), or encryption.pickle_key: the key people's GitHub tokens are encrypted with")
	}
}

// TokenKey is the secret people's GitHub tokens are encrypted with.
func (c *Config) TokenKey() string {
	if k := c.GitHub.OAuth.TokenKey.Value(); k != "" {
		return k
	}
	return c.Encryption.PickleKey.Value()
}
