package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

func noEnv(string) (string, bool) { return "", false }

func TestExampleLoads(t *testing.T) {
	cfg, err := Parse(Example, noEnv)
	if err != nil {
		t.Fatalf("the embedded example does not load:\n%v", err)
	}
	if cfg.Matrix.CommandMaxAge != 5*time.Minute || cfg.Matrix.Rooms[0] != "#image-builder:fedoraproject.org" {
		t.Errorf("example values not decoded: %+v", cfg.Matrix)
	}
}

func TestBrokenConfigNamesEveryKey(t *testing.T) {
	broken := `
matrix:
  homeserver: ftp://nope
  user_id: ibbot
  romos: ["#x:y"]
  rooms: ["general"]
  command_prefix: ""
  command_max_age: soon
  flood:
    commands: -1
database: mysql://db/ibbot
http:
  listen: nonsense
log:
  level: loud
  format: xml
shutdown:
  timeout: 0s
extra: 1
`
	_, err := Parse([]byte(broken), noEnv)
	if err == nil {
		t.Fatal("broken config accepted")
	}
	for _, key := range []string{
		"matrix.homeserver", "matrix.user_id", "matrix.romos (line 5): unknown key; did you mean \"rooms\"?",
		"matrix.rooms[0]", "matrix.command_prefix", "matrix.command_max_age (line 8)",
		"matrix.flood.commands", "database", "http.listen", "log.level", "log.format", "shutdown.timeout",
		"extra (line 19): unknown key",
	} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %q:\n%v", key, err)
		}
	}
}

func TestSecretsFromEnvAndFiles(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("tok-from-file\n"), 0o600)
	env := map[string]string{
		"IBBOT_MATRIX_PASSWORD":          "pw-from-env",
		"IBBOT_MATRIX_ACCESS_TOKEN_FILE": file,
	}
	cfg, err := Parse([]byte("matrix: {homeserver: 'https://hs', user_id: '@b:hs', password: in-file}"),
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Matrix.Password.Value(); got != "pw-from-env" {
		t.Errorf("password = %q, want the environment's", got)
	}
	if got := cfg.Matrix.AccessToken.Value(); got != "tok-from-file" {
		t.Errorf("access token = %q, want the file's", got)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfg := Defaults()
	cfg.Matrix.Password = NewSecret("hunter2")
	cfg.Matrix.AccessToken = NewSecret("syt_secret")
	j, _ := json.Marshal(cfg)
	var logged bytes.Buffer
	log := zerolog.New(&logged)
	log.Info().Interface("config", cfg).Str("pw", cfg.Matrix.Password.String()).Msg("x")
	for _, out := range []string{string(j), logged.String()} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, "syt_secret") {
			t.Errorf("secret printed: %s", out)
		}
	}
}

func TestEmptyFileMeansDefaultsButRequiredKeysMissing(t *testing.T) {
	_, err := Parse(nil, noEnv)
	if err == nil || !strings.Contains(err.Error(), "matrix.homeserver: is required") {
		t.Fatalf("empty config: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(Example)
	f.Add([]byte("matrix: [1, 2]"))
	f.Add([]byte("matrix:\n  flood: {commands: x}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, noEnv)
		if err == nil && cfg.Validate() != nil {
			t.Fatal("Parse accepted a config that does not validate")
		}
	})
}

func TestProdHashSourcesAreChecked(t *testing.T) {
	_, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
prodhash:
  check_interval: 1s
  sources:
    frontend: {type: json, url: nope}
    composer: {type: static, sha: xyz, colour: red}
    crc: {type: magic}
`), noEnv)
	for _, key := range []string{"prodhash.check_interval", "prodhash.sources.frontend.url", "prodhash.sources.frontend.field",
		"prodhash.sources.composer.sha", "prodhash.sources.composer.colour", "prodhash.sources.crc.type"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
}

func TestDatabaseSetting(t *testing.T) {
	for db, want := range map[string]string{
		"ibbot.db":                          "sqlite",
		"/var/lib/ibbot/ibbot.db":           "sqlite",
		"postgres://ibbot@db.example/ibbot": "postgres",
		"postgresql://db.example:5432/ibbot?sslmode=verify-full": "postgres",
		"postgres:///ibbot": "postgres", // the host from PGHOST
		"postgres://":       "postgres", // everything from PG* variables
		"postgres://%zz/x":  "",
		"mysql://db/ibbot":  "",
		"":                  "",
	} {
		got, err := DatabaseDriver(db)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("DatabaseDriver(%q) = %q, %v; want %q", db, got, err, want)
		}
	}
}

const minimal = "matrix: {homeserver: \"https://hs\", user_id: \"@b:hs\", password: x}\n"

// TestTyposInsideListsAreErrors: a typo inside a list entry (or in a value
// of a list) names its full path with the index and its line, and the
// config is refused, instead of the rule silently matching everything.
func TestTyposInsideListsAreErrors(t *testing.T) {
	cfg := `matrix:
  homeserver: "https://hs"
  user_id: "@b:hs"
  password: x
  rooms: ["#x:hs", "x"]
  ignore_users: ["@zodbot:fp.o", "zodbot"]
  invites: {allow: ["ok.org", ""]}
github:
  subscriptions:
    - rooms: ["#a:hs"]
      repos: [osbuild/osbuild]
    - rooms: ["#b:hs"]
      repos: [osbuild/osbuild]
      lables: {include: [bug]}
      evnets: [issues]
      labels: {inclde: [bug]}
      authors: {exclude: [x], exlude: [y]}
      events: [isues, pulls]
      bots: digst
      drafts: hidden
      rooms: ["#ok:hs", "general"]
      repos: [osbuild/osbuild, "../../orgs"]
  link_repos: [osbuild/*, "a/b/c"]
  rooms:
    "#b:hs": {default_repo: nope, no_thread: true}
prodhash:
  rooms: ["nope"]
  sources:
    composer: {type: statik, sha: abc1234}
mail:
  imap: {address: "127.0.0.1:143", tls: none, username: u, password: p}
  list_id: [x]
  rooms: ["#m:hs", "m"]
welcome:
  rooms: ["w"]
contribute:
  repos: ["nope"]
`
	_, err := Parse([]byte(cfg), noEnv)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`matrix.rooms[1] (line 5)`,
		`matrix.ignore_users[1] (line 6)`,
		`matrix.invites.allow[1] (line 7)`,
		`github.subscriptions[1].lables (line 14): unknown key; did you mean "labels"?`,
		`github.subscriptions[1].evnets (line 15): unknown key; did you mean "events"?`,
		`github.subscriptions[1].labels.inclde (line 16): unknown key; did you mean "include"?`,
		`github.subscriptions[1].authors.exlude (line 17): unknown key; did you mean "exclude"?`,
		`github.subscriptions[1].events[0] (line 18): "isues" is not one of issues, pulls, releases, comments, ci, discussions, reviews; did you mean "issues"?`,
		`github.subscriptions[1].bots (line 19): "digst" is not one of show, digest, hide; did you mean "digest"?`,
		`github.subscriptions[1].drafts (line 20): "hidden" is not one of show, hide`,
		`github.subscriptions[1].rooms (line 21): is set twice (first on line 12)`,
		`github.subscriptions[1].repos (line 22): is set twice (first on line 13)`,
		`github.link_repos[1] (line 23)`,
		`github.rooms.#b:hs.no_thread (line 25): unknown key; did you mean "no_threads"?`,
		`github.rooms.#b:hs.default_repo (line 25)`,
		`prodhash.rooms[0] (line 27)`,
		`prodhash.sources.composer.type (line 29): "statik" is not one of json, static; did you mean "static"?`,
		`mail.rooms[1] (line 33)`,
		`welcome.rooms[0] (line 35)`,
		`contribute.repos[0] (line 37)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s\n", want)
		}
	}
	if t.Failed() {
		t.Log(err)
	}
	// A list entry's values are checked like any other: the second
	// subscription's repos, given once, must be owner/name.
	_, err = Parse([]byte(minimal+"github: {subscriptions: [{rooms: [\"#a:hs\"], repos: [\"osbuild/..\"]}]}\n"), noEnv)
	if err == nil || !strings.Contains(err.Error(), `github.subscriptions[0].repos[0] (line 2): "osbuild/.." is not owner/name`) {
		t.Errorf("path trick accepted: %v", err)
	}
}

// TestZeroMeansOff: every duration where 0 means off accepts a bare 0, and
// durations may be written in days.
func TestZeroMeansOff(t *testing.T) {
	cfg, err := Parse([]byte(minimal+`github: {poll_interval: 0, aggregation_window: 0, link_cooldown: 0}
prodhash: {check_interval: 0, cache_ttl: 0}
contribute: {cache_ttl: 0, max_issues: 0}
retention: {relations: 0, outbox: 14d, deliveries: 1d12h}
mail: {imap: {address: "127.0.0.1:1", tls: none, username: u, password: p}, list_id: [l], rooms: ["!r:hs"], excerpt_chars: 0}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GitHub.PollInterval != 0 || cfg.ProdHash.CheckInterval != 0 || cfg.Retention.Relations != 0 {
		t.Errorf("0 not read as 0: %+v", cfg.GitHub)
	}
	if cfg.Retention.Outbox != 14*24*time.Hour || cfg.Retention.Deliveries != 36*time.Hour {
		t.Errorf("days: %s, %s", cfg.Retention.Outbox, cfg.Retention.Deliveries)
	}
	_, err = Parse([]byte("matrix: {homeserver: \"https://hs\", user_id: \"@b:hs\", password: x, command_max_age: 0}\nshutdown: {timeout: 0}\n"), noEnv)
	for _, want := range []string{"shutdown.timeout (line 2): must be between 1s and 10m0s, got 0s", "matrix.command_max_age (line 1)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a 0 where 0 means nothing is accepted; want %q in %v", want, err)
		}
	}
}

// TestNumbersAreBounded: numeric keys out of their range are refused with
// the range, and mail.max_mail_bytes: 0 no longer drops every mail.
func TestNumbersAreBounded(t *testing.T) {
	_, err := Parse([]byte(minimal+`mail:
  imap: {address: "127.0.0.1:1", tls: none, username: u, password: p}
  list_id: [l]
  rooms: ["!r:hs"]
  max_mail_bytes: 0
  excerpt_chars: -1
  backfill: 1000000
prodhash: {max_changes: 500}
contribute: {max_issues: -2}
welcome: {max_per_minute: 0}
http: {listen: "127.0.0.1:1"}
retention: {outbox: 1m}
`), noEnv)
	for _, want := range []string{
		"mail.max_mail_bytes (line 6): must be between 4096 and 104857600, got 0",
		"mail.excerpt_chars (line 7): must be between 0 and 4000 (or 0: no excerpt), got -1",
		"mail.backfill (line 8)", "prodhash.max_changes (line 9)", "contribute.max_issues (line 10)",
		"welcome.max_per_minute (line 11)", "retention.outbox (line 13)",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}

// TestAuthValueEnvMustExist: a header value named by auth_value_env is
// read at load (so nothing else reads the environment) and must be set.
func TestAuthValueEnvMustExist(t *testing.T) {
	src := minimal + "prodhash:\n  sources:\n    crc: {type: json, url: \"https://x/v\", field: build_commit, auth_header: Authorization, auth_value_env: CRC_AUTH}\n"
	_, err := Parse([]byte(src), noEnv)
	if err == nil || !strings.Contains(err.Error(), "prodhash.sources.crc.auth_value_env (line 4): the environment variable CRC_AUTH is not set") {
		t.Fatalf("missing env accepted: %v", err)
	}
	cfg, err := Parse([]byte(src), func(k string) (string, bool) { return "Bearer t0k", k == "CRC_AUTH" })
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ProdHash.Sources["crc"].AuthValue.Value(); got != "Bearer t0k" {
		t.Errorf("auth value = %q", got)
	}
}

// TestListDefaultsAreFilledAtLoad: a subscription without events, bots or
// drafts gets the documented defaults once, here.
func TestListDefaultsAreFilledAtLoad(t *testing.T) {
	cfg, err := Parse([]byte(minimal+"github: {subscriptions: [{rooms: [\"!r:hs\"], repos: [a/b]}]}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.GitHub.Subscriptions[0]
	if len(s.Events) != 3 || s.Bots != BotsDigest || s.Drafts != DraftsHide {
		t.Errorf("defaults not filled: %+v", s)
	}
	if _, err := Parse([]byte(minimal+"github: {subscriptions: [{rooms: [\"!r:hs\"], repos: [a/b], events: []}]}\n"), noEnv); err == nil {
		t.Error("a subscription with an empty events list (relays nothing) was accepted")
	}
}

// TestAllRoomsIsTheUnionOfEveryRoomList: the bot joins every room the
// config names, not only matrix.rooms.
func TestAllRoomsIsTheUnionOfEveryRoomList(t *testing.T) {
	cfg, err := Parse([]byte(`matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x, rooms: ["#main:hs"]}
prodhash: {rooms: ["#deploys:hs", "#main:hs"]}
welcome: {rooms: ["#welcome:hs"]}
mail: {imap: {address: "127.0.0.1:1", tls: none, username: u, password: p}, list_id: [l], rooms: ["!mail:hs"]}
github:
  subscriptions: [{rooms: ["#gh:hs"], repos: [a/b]}]
  rooms: {"#defaults:hs": {default_repo: a/b}}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(cfg.AllRooms(), " ")
	if want := "#main:hs #welcome:hs #deploys:hs !mail:hs #gh:hs #defaults:hs"; got != want {
		t.Errorf("AllRooms = %s, want %s", got, want)
	}
}

func TestValidRepo(t *testing.T) {
	for repo, want := range map[string]bool{
		"osbuild/osbuild": true, "RedHatInsights/image-builder-frontend": true, "a/b.c_d-e": true,
		"osbuild/..": false, "../x": false, "a/b/c": false, "a": false, "a/": false, "/b": false,
		"a/b?x=1": false, "a b/c": false, "osbuild/*": false, "-/x": true,
	} {
		if got := ValidRepo(repo, false); got != want {
			t.Errorf("ValidRepo(%q) = %v, want %v", repo, got, want)
		}
	}
	if !ValidRepo("osbuild/*", true) || ValidRepo("../*", true) {
		t.Error("globs")
	}
}

// TestCAFileIsChecked: a CA file that cannot be read or holds no
// certificate is refused at load, not at the first connection.
func TestCAFileIsChecked(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	for file, want := range map[string]string{
		filepath.Join(dir, "missing.pem"): "no such file",
		junk:                              "holds no PEM certificate",
	} {
		_, err := Parse([]byte(minimal+"mail: {imap: {address: \"imap.example.org:993\", username: u, password: p, ca_file: "+file+"}, list_id: [l], rooms: [\"!r:hs\"]}\n"), noEnv)
		if err == nil || !strings.Contains(err.Error(), "mail.imap.ca_file (line 2)") || !strings.Contains(err.Error(), want) {
			t.Errorf("ca_file %s: %v", filepath.Base(file), err)
		}
	}
}

// TestOAuth2KeysAreRequired: with auth: oauth2, check-config names every
// missing OAuth key; secrets may come from the environment.
func TestOAuth2KeysAreRequired(t *testing.T) {
	src := minimal + "mail: {imap: {address: \"imap.gmail.com:993\", username: u, auth: oauth2, oauth2: {mechanism: xoauth3}}, list_id: [l], rooms: [\"!r:hs\"]}\n"
	_, err := Parse([]byte(src), noEnv)
	for _, want := range []string{"mail.imap.oauth2.token_url", "mail.imap.oauth2.client_id", "mail.imap.oauth2.refresh_token",
		`mail.imap.oauth2.mechanism (line 2): "xoauth3" is not one of xoauth2, oauthbearer; did you mean "xoauth2"?`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "mail.imap.password") {
		t.Errorf("a password is asked for with auth: oauth2:\n%v", err)
	}
	ok := minimal + "mail: {imap: {address: \"imap.gmail.com:993\", username: u, auth: oauth2, oauth2: {token_url: \"https://oauth2.googleapis.com/token\", client_id: c}}, list_id: [l], rooms: [\"!r:hs\"]}\n"
	cfg, err := Parse([]byte(ok), func(k string) (string, bool) {
		v := map[string]string{"IBBOT_IMAP_OAUTH2_REFRESH_TOKEN": "1//refresh", "IBBOT_IMAP_OAUTH2_CLIENT_SECRET": "s3cret"}[k]
		return v, v != ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if o := cfg.Mail.IMAP.OAuth2; o.RefreshToken.Value() != "1//refresh" || o.ClientSecret.Value() != "s3cret" || o.Mechanism != MechXOAuth2 {
		t.Errorf("OAuth settings: %+v", o)
	}
}

// TestLeaderNeedsPostgres: leader.* in a config whose database is a
// SQLite file is refused (it would do nothing); with PostgreSQL it stays.
func TestLeaderNeedsPostgres(t *testing.T) {
	leader := "leader: {heartbeat: 2s, timeout: 10s}\n"
	_, err := Parse([]byte(minimal+"database: /var/lib/ibbot/ibbot.db\n"+leader), noEnv)
	if err == nil || !strings.Contains(err.Error(), "leader (line") || !strings.Contains(err.Error(), "applies only to replicas sharing a PostgreSQL database") {
		t.Errorf("leader.* with SQLite: %v", err)
	}
	if _, err := Parse([]byte(minimal+"database: postgres://ibbot@db/ibbot\n"+leader), noEnv); err != nil {
		t.Errorf("leader.* with PostgreSQL: %v", err)
	}
	if _, err := Parse([]byte(minimal+"database: /var/lib/ibbot/ibbot.db\n"), noEnv); err != nil {
		t.Errorf("SQLite without leader.*: %v", err)
	}
}

// TestProblemsInLineOrder: check-config lists problems as the file runs,
// whichever check found them (decoding, validation, secrets), so a person
// fixes the file top to bottom.
func TestProblemsInLineOrder(t *testing.T) {
	text := `log: {level: loud}
matrix:
  homeserver: ftp://nope
  user_id: "@ibbot:fedora.im"
  rooms: ["general"]
database: mysql://db/ibbot
github:
  poll_interval: 0
  webhook: {path: /hook}
mail: {imap: {address: "imap.fedora.im:993", username: u}, list_id: [x.y], rooms: ["#r:s"], replies: sometimes}
`
	_, err := Parse([]byte(text), noEnv)
	if err == nil {
		t.Fatal("a broken file parsed")
	}
	lines := strings.Split(err.Error(), "\n")
	var got []int
	for _, l := range lines {
		var n int
		if i := strings.Index(l, "(line "); i >= 0 {
			fmt.Sscanf(l[i:], "(line %d)", &n)
		}
		got = append(got, n)
	}
	if !slices.IsSortedFunc(got, func(a, b int) int {
		if a == 0 {
			a = 1 << 30
		}
		if b == 0 {
			b = 1 << 30
		}
		return a - b
	}) || got[0] != 1 || len(got) < 6 {
		t.Errorf("problems not in line order (lines %v):\n%v", got, err)
	}
}

// TestPlaceholdersRefused: a secret left at a placeholder, or the
// example's homeserver, is named; real values pass.
func TestPlaceholdersRefused(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{`matrix: {homeserver: "https://fedora.ems.host", user_id: "@ibbot:fedora.im", password: change-me}`, "matrix.password (line 1): is a placeholder"},
		{`matrix: {homeserver: "https://fedora.ems.host", user_id: "@ibbot:fedora.im", access_token: "<token>"}`, "matrix.access_token (line 1): is a placeholder"},
		{`matrix: {homeserver: "https://matrix.example.org", user_id: "@ibbot:fedora.im"}`, "matrix.homeserver (line 1): \"https://matrix.example.org\" is the example's placeholder"},
		{"matrix: {homeserver: \"https://fedora.ems.host\", user_id: \"@ibbot:fedora.im\"}\ngithub: {token: TODO}", "github.token (line 2): is a placeholder"},
	} {
		_, err := Parse([]byte(c.yaml), noEnv)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s: %v; want %q", c.yaml, err, c.key)
		}
	}
	if _, err := Parse([]byte(`matrix: {homeserver: "https://fedora.ems.host", user_id: "@ibbot:fedora.im", password: "c0rrect-h0rse"}`), noEnv); err != nil {
		t.Errorf("a real password is refused: %v", err)
	}
	if _, err := Parse([]byte(`matrix: {homeserver: "https://fedora.ems.host", user_id: "@ibbot:fedora.im"}`),
		func(k string) (string, bool) { return "change-me", k == "IBBOT_MATRIX_PASSWORD" }); err == nil {
		t.Error("a placeholder from the environment passes")
	}
}

func TestSearchDocsAreChecked(t *testing.T) {
	_, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
search:
  refresh: 10s
  docs:
    - {repo: osbuild/osbuild.github.io, dir: /srv/docs, url: "https://osbuild.org/docs/"}
    - {url: "https://osbuild.org/docs/"}
    - {repo: not-a-repo, url: "https://osbuild.org/docs/"}
    - {dir: /srv/docs, path: docs, url: "https://osbuild.org/docs/"}
    - {repo: osbuild/osbuild.github.io, url: osbuild.org}
    - {repo: osbuild/osbuild.github.io, path: docs/, url: "https://osbuild.org/docs/"}
`), noEnv)
	for _, key := range []string{"search.refresh", "search.docs[0] (line 6): give either", "search.docs[1] (line 7): give either",
		"search.docs[2].repo", "search.docs[3] (line 9): ref and path", "search.docs[4].url", "search.docs[5] (line 11): osbuild/osbuild.github.io/docs is listed twice"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	c, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
search:
  docs: [{repo: osbuild/osbuild.github.io, url: "https://osbuild.org/docs/"}, {dir: ./site/docs, url: "http://localhost:3000/docs/"}]
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if d := c.Search.Docs; d[0].Folder() != "docs" || d[0].Name() != "osbuild/osbuild.github.io/docs" || d[1].Name() != "dir:site/docs" || c.Search.Refresh != 6*time.Hour {
		t.Errorf("docs %+v, refresh %s", d, c.Search.Refresh)
	}
}

func TestAlertsAreChecked(t *testing.T) {
	_, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
http: {listen: "127.0.0.1:9090"}
alerts:
  webhook: {path: alertmanager}
  routes: [{rooms: []}]
`), noEnv)
	for _, key := range []string{"alerts.webhook.path", "alerts.webhook.token", "alerts.routes[0].rooms"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	c, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
alerts:
  webhook: {path: /alertmanager}
  routes: [{rooms: ["!ops:hs"], match: {severity: "critical|warning"}}]
`), func(k string) (string, bool) {
		v, ok := map[string]string{"IBBOT_ALERTS_TOKEN": "t0k3n-from-env"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Alerts.Webhook.Token.Value() != "t0k3n-from-env" || !slices.Contains(c.AllRooms(), "!ops:hs") {
		t.Errorf("alerts %+v", c.Alerts)
	}
}

func TestIncidentsAreChecked(t *testing.T) {
	_, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
incidents: {statuspage: "status.redhat.com", poll_interval: 1s}
`), noEnv)
	for _, key := range []string{"incidents.statuspage", "incidents.rooms", "incidents.poll_interval"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	c, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
incidents: {statuspage: "https://status.redhat.com", components: [Image Builder], rooms: ["#image-builder:fedoraproject.org"]}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Incidents.PollInterval != 2*time.Minute || !slices.Contains(c.AllRooms(), "#image-builder:fedoraproject.org") {
		t.Errorf("incidents %+v", c.Incidents)
	}
}

func TestMeetingsAreChecked(t *testing.T) {
	_, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
meetings: {minutes_to: "image-builder@lists.example.org", calendar: "calendar.ics", max_duration: 1m}
`), noEnv)
	for _, key := range []string{"meetings.minutes_to", "meetings.calendar", "meetings.max_duration", "meetings.rooms"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s: %v", key, err)
		}
	}
	c, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x, rooms: ["#image-builder:fedoraproject.org"]}
mail:
  smtp: {address: "smtp.example.org:587", username: ibbot@example.org, password: s3cr3t-pass, from: "ibbot <ibbot@example.org>"}
meetings: {minutes_to: "image-builder@lists.example.org", calendar: "https://calendar.fedoraproject.org/ical/image-builder/"}
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.ChatReplies.PerHour != 5 || c.Mail.ChatReplies.MaxChars != 5000 {
		t.Errorf("chat replies' defaults %+v", c.Mail.ChatReplies)
	}
	if !c.Meetings.Enabled || c.Meetings.PowerLevel != 50 || c.Meetings.ReminderRooms(c.Matrix)[0] != "#image-builder:fedoraproject.org" || c.Mail.SMTP.TLS != TLSStartTLS {
		t.Errorf("meetings %+v, smtp %+v", c.Meetings, c.Mail.SMTP)
	}
	if _, err := Parse([]byte(`
matrix: {homeserver: "https://hs", user_id: "@b:hs", password: x}
mail:
  smtp: {address: "smtp.example.org:25", tls: none, from: "not an address"}
`), noEnv); err == nil || !strings.Contains(err.Error(), "mail.smtp.tls") || !strings.Contains(err.Error(), "mail.smtp.from") {
		t.Errorf("a clear SMTP to another host, and a bad sender: %v", err)
	}
}
