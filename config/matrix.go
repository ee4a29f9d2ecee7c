package config

// The matrix:, encryption: and welcome: sections and their checks.

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"
)

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

func validRoomRef(s string) bool {
	if len(s) < 4 || (s[0] != '!' && s[0] != '#') {
		return false
	}
	i := strings.IndexByte(s, ':')
	return i > 1 && i < len(s)-1 && !strings.ContainsAny(s, " \t\n")
}

const (
	ShareWithAll         KeySharing = "all"          // every device of the room's members
	ShareWithCrossSigned KeySharing = "cross-signed" // only devices their owners cross-signed
)
