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
	Matrix   Matrix   `yaml:"matrix"`
	Database string   `yaml:"database"`
	HTTP     HTTP     `yaml:"http"`
	Log      Log      `yaml:"log"`
	Shutdown Shutdown `yaml:"shutdown"`
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
	return errors.Join(errs...)
}

// DatabaseDriver tells which store a database setting selects.
func DatabaseDriver(db string) (string, error) {
	switch {
	case db == "":
		return "", errors.New("is required: a SQLite file path")
	case strings.HasPrefix(db, "postgres://"), strings.HasPrefix(db, "postgresql://"):
		return "", errors.New("PostgreSQL is not supported yet; use a SQLite file path")
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
