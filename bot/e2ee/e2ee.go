// Package e2ee is the bot's end-to-end encryption: mautrix's crypto
// helper driven by a sync loop of the bot's own (whose hooks cryptohelper
// would otherwise get from mautrix's syncer), its stores in ibbot's
// database, and the bot's cross-signing. Encryption needs the pure-Go Olm
// implementation, chosen with the build tag goolm (ibbot builds without
// cgo); a build without it gets the stub in none.go, whose New says why
// encryption is unavailable.
package e2ee

import (
	"database/sql"
	"errors"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
)

// Options are what New needs.
type Options struct {
	// Client is the bot's logged-in client; New makes it encrypt in
	// encrypted rooms.
	Client *mautrix.Client
	// DB and Dialect are where the crypto and state stores keep their
	// tables (store.DB.SharedPool): "sqlite" or "pgx".
	DB      *sql.DB
	Dialect string
	// PickleKey encrypts the keys at rest.
	PickleKey []byte
	// OnlyCrossSigned shares room keys only with devices their owners
	// cross-signed; otherwise with every device of the room's members.
	OnlyCrossSigned bool
	Log             zerolog.Logger
}

// Status is what !status shows of encryption.
type Status struct {
	Available   bool
	Device      string
	CrossSigned bool
	Problem     string // why encryption is off or degraded; empty when fine
}

// ErrDeviceMismatch means the database's keys and the homeserver's do not
// agree for this device (the crypto tables were lost or replaced while the
// device id was kept): the bot must start a new device.
var ErrDeviceMismatch = errors.New("the device's keys in the database and on the homeserver disagree")

// ErrUnavailable means this build has no encryption.
var ErrUnavailable = errors.New("this ibbot was built without -tags goolm: end-to-end encryption is unavailable")
