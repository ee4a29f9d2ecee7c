package config

import (
	"bytes"
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/osbuild/ibbot/internal/suggest"
)

// Example is the documented example configuration; a test loads it, so it
// cannot rot.
//
//go:embed example.yaml
var Example []byte

// LookupEnv reads an environment variable; os.LookupEnv in production.
type LookupEnv func(key string) (string, bool)

// secretEnv lists the secrets that may come from the environment, either as
// the value itself (NAME) or as a file holding it (NAME_FILE, for container
// secrets).
var secretEnv = []struct {
	name string
	key  string
	get  func(*Config) *Secret
}{
	{"IBBOT_MATRIX_PASSWORD", "matrix.password", func(c *Config) *Secret { return &c.Matrix.Password }},
	{"IBBOT_MATRIX_ACCESS_TOKEN", "matrix.access_token", func(c *Config) *Secret { return &c.Matrix.AccessToken }},
	{"IBBOT_GITHUB_TOKEN", "github.token", func(c *Config) *Secret { return &c.GitHub.Token }},
	{"IBBOT_IMAP_PASSWORD", "mail.imap.password", func(c *Config) *Secret { return &c.Mail.IMAP.Password }},
	{"IBBOT_GITHUB_WEBHOOK_SECRET", "github.webhook.secret", func(c *Config) *Secret { return &c.GitHub.Webhook.Secret }},
	{"IBBOT_ALERTS_TOKEN", "alerts.webhook.token", func(c *Config) *Secret { return &c.Alerts.Webhook.Token }},
	{"IBBOT_IMAP_OAUTH2_CLIENT_SECRET", "mail.imap.oauth2.client_secret", func(c *Config) *Secret { return &c.Mail.IMAP.OAuth2.ClientSecret }},
	{"IBBOT_IMAP_OAUTH2_REFRESH_TOKEN", "mail.imap.oauth2.refresh_token", func(c *Config) *Secret { return &c.Mail.IMAP.OAuth2.RefreshToken }},
	{"IBBOT_SMTP_PASSWORD", "mail.smtp.password", func(c *Config) *Secret { return &c.Mail.SMTP.Password }},
	{"IBBOT_SMTP_OAUTH2_CLIENT_SECRET", "mail.smtp.oauth2.client_secret", func(c *Config) *Secret { return &c.Mail.SMTP.OAuth2.ClientSecret }},
	{"IBBOT_SMTP_OAUTH2_REFRESH_TOKEN", "mail.smtp.oauth2.refresh_token", func(c *Config) *Secret { return &c.Mail.SMTP.OAuth2.RefreshToken }},
	{"IBBOT_GITHUB_OAUTH_CLIENT_SECRET", "github.oauth.client_secret", func(c *Config) *Secret { return &c.GitHub.OAuth.ClientSecret }},
	{"IBBOT_GITHUB_TOKEN_KEY", "github.oauth.token_key", func(c *Config) *Secret { return &c.GitHub.OAuth.TokenKey }},
	{"IBBOT_PICKLE_KEY", "encryption.pickle_key", func(c *Config) *Secret { return &c.Encryption.PickleKey }},
	{"IBBOT_RECOVERY_KEY", "encryption.recovery_key", func(c *Config) *Secret { return &c.Encryption.RecoveryKey }},
}

// PostgresEnv are the libpq variables the PostgreSQL driver (pgx) reads
// for whatever a postgres:// URL leaves out: a container can keep the
// database's address and password in a Secret and the URL bare.
var PostgresEnv = []string{"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGPASSFILE",
	"PGSSLMODE", "PGSSLCERT", "PGSSLKEY", "PGSSLROOTCERT", "PGAPPNAME", "PGCONNECT_TIMEOUT"}

// EnvNames lists every environment variable ibbot reads (besides those a
// config names itself, such as prodhash.sources.*.auth_value_env): each
// secret as NAME or NAME_FILE, and PostgresEnv.
func EnvNames() []string {
	var names []string
	for _, s := range secretEnv {
		names = append(names, s.name, s.name+"_FILE")
	}
	return append(names, PostgresEnv...)
}

// Load reads the YAML file at path over Defaults, applies secrets from env,
// and validates the result. The returned error lists every problem found.
func Load(path string, env LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, env)
}

// Parse is Load for configuration already in memory.
func Parse(data []byte, env LookupEnv) (*Config, error) {
	return parse(data, env, func(string) bool { return true })
}

// LoadMatrix is Load for the commands that only sign the bot's account in
// (ibbot login): only problems of the matrix and database keys count, so
// a mail section still being written does not stand in the way.
func LoadMatrix(path string, env LookupEnv) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parse(data, env, func(key string) bool {
		return key == "matrix" || strings.HasPrefix(key, "matrix.") || key == "database"
	})
}

// parse decodes, fills defaults and secrets, and checks; of the problems
// found, those of keys for which counts returns true are reported, in the
// order of their lines in the file.
func parse(data []byte, env LookupEnv, counts func(key string) bool) (*Config, error) {
	cfg := Defaults()
	lines, err := decodeStrict(data, &cfg)
	errs := []error{err}
	cfg.fillListDefaults()
	errs = append(errs, applySecretEnv(&cfg, env))
	errs = append(errs, withLines(cfg.problems(), lines)...)
	errs = append(errs, leaderWithoutReplicas(&cfg, lines))
	if err := errors.Join(inLineOrder(flatten(errs), counts)...); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// flatten unwraps joined errors into their parts.
func flatten(errs []error) []error {
	var out []error
	for _, err := range errs {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			out = append(out, flatten(joined.Unwrap())...)
		} else if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// inLineOrder keeps the problems that count and sorts them by line, so a
// person fixing the file goes down it once; problems with no line (a key
// the file does not have) come last, in the order they were found.
func inLineOrder(errs []error, counts func(key string) bool) []error {
	line := func(err error) int {
		var ke *KeyError
		if errors.As(err, &ke) && ke.Line > 0 {
			return ke.Line
		}
		return math.MaxInt
	}
	kept := slices.DeleteFunc(errs, func(err error) bool {
		var ke *KeyError
		return errors.As(err, &ke) && !counts(ke.Key)
	})
	slices.SortStableFunc(kept, func(a, b error) int { return cmp.Compare(line(a), line(b)) })
	return kept
}

// leaderWithoutReplicas refuses leader.* set in the file when the
// database is a SQLite file: one process runs alone on it, so the keys
// would silently do nothing.
func leaderWithoutReplicas(cfg *Config, lines map[string]int) error {
	if driver, err := DatabaseDriver(cfg.Database); err != nil || driver != "sqlite" {
		return nil
	}
	for _, key := range []string{"leader", "leader.heartbeat", "leader.timeout"} {
		if line, set := lines[key]; set {
			return &KeyError{Key: key, Line: line, Msg: "applies only to replicas sharing a PostgreSQL database; " +
				"with a SQLite file one ibbot runs alone and nothing is elected: remove it"}
		}
	}
	return nil
}

// fillListDefaults gives list entries the defaults that Defaults cannot
// (it has no entries), so no consumer needs its own idea of them.
func (c *Config) fillListDefaults() {
	for i := range c.GitHub.Subscriptions {
		s := &c.GitHub.Subscriptions[i]
		if s.Events == nil {
			s.Events = slices.Clone(DefaultEvents)
		}
		if s.Bots == "" {
			s.Bots = BotsDigest
		}
		if s.Drafts == "" {
			s.Drafts = DraftsHide
		}
	}
}

// withLines gives each problem the line of its key in the file, or of the
// nearest enclosing key written there.
func withLines(errs []error, lines map[string]int) []error {
	for _, err := range errs {
		var ke *KeyError
		if !errors.As(err, &ke) || ke.Line > 0 {
			continue
		}
		ke.Line = lines[ke.Key]
	}
	return errs
}

func applySecretEnv(cfg *Config, env LookupEnv) error {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	var errs []error
	for _, s := range secretEnv {
		if v, ok := env(s.name); ok && v != "" {
			*s.get(cfg) = NewSecret(v)
			continue
		}
		file, ok := env(s.name + "_FILE")
		if !ok || file == "" {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			errs = append(errs, &KeyError{Key: s.key, Msg: fmt.Sprintf("reading %s_FILE: %v", s.name, err)})
			continue
		}
		*s.get(cfg) = NewSecret(strings.TrimSpace(string(b)))
	}
	for id, src := range cfg.ProdHash.Sources {
		if src.AuthValueEnv != "" {
			v, _ := env(src.AuthValueEnv)
			src.AuthValue = NewSecret(v)
			cfg.ProdHash.Sources[id] = src
		}
	}
	return errors.Join(errs...)
}

// decodeStrict decodes YAML into out key by key, so that an unknown key or
// a value of the wrong type is reported with its full path and line, and
// every such problem is reported, not just the first. It returns the line
// of every key it saw, so later checks can name lines too.
func decodeStrict(data []byte, out any) (lines map[string]int, err error) {
	lines = map[string]int{}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return lines, nil // an empty file means all defaults
		}
		return lines, fmt.Errorf("not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return lines, nil
	}
	d := decoder{lines: lines}
	d.node(doc.Content[0], reflect.ValueOf(out).Elem(), "")
	return lines, errors.Join(d.errs...)
}

// decoder walks a YAML tree beside the Go value it fills.
type decoder struct {
	lines map[string]int
	errs  []error
}

func (d *decoder) fail(path string, line int, msg string) {
	d.errs = append(d.errs, &KeyError{Key: orRoot(path), Line: line, Msg: msg})
}

var durationType = reflect.TypeFor[time.Duration]()

func (d *decoder) node(n *yaml.Node, v reflect.Value, path string) {
	d.lines[path] = n.Line
	switch {
	case v.Type() == durationType:
		d.duration(n, v, path)
	case v.Kind() == reflect.Map && isStruct(v.Type().Elem()) && n.Kind == yaml.MappingNode:
		d.structMap(n, v, path)
	case v.Kind() == reflect.Slice && isStruct(v.Type().Elem()) && n.Kind == yaml.SequenceNode:
		d.structList(n, v, path)
	case v.Kind() == reflect.Struct && !isLeafStruct(v):
		d.structFields(n, v, path)
	default:
		if n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				d.lines[fmt.Sprintf("%s[%d]", path, i)] = item.Line
			}
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(path, n.Line, typeErrorText(err))
		}
	}
}

func (d *decoder) structFields(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "must be a mapping of keys")
		return
	}
	fields := yamlFields(v)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		sub := joinPath(path, key.Value)
		if first, dup := seen[key.Value]; dup {
			d.fail(sub, key.Line, fmt.Sprintf("is set twice (first on line %d); only one can count", first))
			continue
		}
		seen[key.Value] = key.Line
		f, ok := fields[key.Value]
		if !ok {
			d.fail(sub, key.Line, unknownKeyText(key.Value, fields))
			continue
		}
		d.node(val, f, sub)
	}
}

// structMap decodes a map of structs entry by entry, so unknown keys
// inside each entry are caught too.
func (d *decoder) structMap(n *yaml.Node, v reflect.Value, path string) {
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name := n.Content[i].Value
		if first, dup := seen[name]; dup {
			d.fail(joinPath(path, name), n.Content[i].Line, fmt.Sprintf("is set twice (first on line %d); only one can count", first))
			continue
		}
		seen[name] = n.Content[i].Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.node(n.Content[i+1], elem, joinPath(path, n.Content[i].Value))
		v.SetMapIndex(reflect.ValueOf(n.Content[i].Value), elem)
	}
}

// structList decodes a list of structs entry by entry (path[0], path[1],
// ...), so a typo inside a list entry is an error like anywhere else.
func (d *decoder) structList(n *yaml.Node, v reflect.Value, path string) {
	list := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		d.node(item, list.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(list)
}

// duration reads a Go duration ("90s", "5m", "1h30m"), a number of days
// ("30d", "1d12h"), or a bare 0 (which many keys read as "off").
func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n.Line, "must be a duration like 30s, 5m, 2h or 30d")
		return
	}
	dur, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(path, n.Line, err.Error())
		return
	}
	v.SetInt(int64(dur))
}

// ParseDuration is time.ParseDuration plus whole days ("90d", "1d12h")
// and a bare "0".
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays {
		if dur, err := time.ParseDuration(s); err == nil {
			return dur, nil
		}
		return 0, fmt.Errorf("%q is not a duration like 30s, 5m, 2h or 30d", s)
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > 100*365 {
		return 0, fmt.Errorf("%q is not a duration like 30s, 5m, 2h or 30d", s)
	}
	dur := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return dur, nil
	}
	more, err := time.ParseDuration(rest)
	if err != nil || more < 0 {
		return 0, fmt.Errorf("%q is not a duration like 30s, 5m, 2h or 30d", s)
	}
	return dur + more, nil
}

func isStruct(t reflect.Type) bool {
	_, leaf := reflect.New(t).Interface().(interface{ UnmarshalText([]byte) error })
	return t.Kind() == reflect.Struct && !leaf
}

// isLeafStruct is true for structs decoded as one scalar (Secret).
func isLeafStruct(v reflect.Value) bool {
	_, ok := v.Addr().Interface().(interface{ UnmarshalText([]byte) error })
	return ok
}

func yamlFields(v reflect.Value) map[string]reflect.Value {
	fields := make(map[string]reflect.Value)
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = v.Field(i)
		}
	}
	return fields
}

func unknownKeyText(key string, fields map[string]reflect.Value) string {
	known := make([]string, 0, len(fields))
	for k := range fields {
		known = append(known, k)
	}
	slices.Sort(known)
	if best := suggest.Closest(key, known); best != "" {
		return fmt.Sprintf("unknown key; did you mean %q?", best)
	}
	return "unknown key"
}

// typeErrorText drops yaml.v3's "line N:" prefix; KeyError carries the line.
func typeErrorText(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg := te.Errors[0]
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
			msg = msg[i+2:]
		}
		return msg
	}
	return err.Error()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
