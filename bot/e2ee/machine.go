//go:build goolm

package e2ee

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"maunium.net/go/mautrix/sqlstatestore"
)

// machine is the client's encryption: an OlmMachine over ibbot's own
// database, satisfying mautrix.CryptoHelper so the client encrypts what
// it sends to encrypted rooms. It does what mautrix's cryptohelper does
// for a logged-in client, without that package: cryptohelper also
// registers a cgo SQLite driver (through dbutil/litestream), and ibbot
// builds without cgo on a single, pure-Go SQLite driver.
type machine struct {
	client *mautrix.Client
	mach   *crypto.OlmMachine
	log    zerolog.Logger
}

var _ mautrix.CryptoHelper = (*machine)(nil)

// newMachine keeps room state and the crypto account (per device id) in
// db, loads the account and checks the homeserver holds the same device
// keys. The client must be logged in.
func newMachine(ctx context.Context, client *mautrix.Client, db *dbutil.Database, pickleKey []byte, log zerolog.Logger) (*machine, error) {
	if client.DeviceID == "" || client.UserID == "" {
		return nil, errors.New("the client must be logged in")
	}
	stateStore := sqlstatestore.NewSQLStateStore(db, dbutil.ZeroLogger(log.With().Str("db_section", "matrix_state").Logger()), false)
	if err := stateStore.Upgrade(ctx); err != nil {
		return nil, fmt.Errorf("upgrading the state store: %w", err)
	}
	client.StateStore = stateStore
	cryptoStore := crypto.NewSQLCryptoStore(db, dbutil.ZeroLogger(log.With().Str("db_section", "crypto").Logger()),
		client.DeviceID.String(), client.DeviceID, pickleKey)
	if err := cryptoStore.DB.Upgrade(ctx); err != nil {
		return nil, fmt.Errorf("upgrading the crypto store: %w", err)
	}
	stored, err := cryptoStore.FindDeviceID(ctx)
	if err != nil {
		return nil, fmt.Errorf("finding the stored device: %w", err)
	}
	if stored != "" && stored != client.DeviceID {
		return nil, fmt.Errorf("mismatching device ID in client and crypto store (%q != %q)", stored, client.DeviceID)
	}
	m := &machine{client: client, log: log, mach: crypto.NewOlmMachine(client, &log, cryptoStore, stateStore)}
	if err := m.mach.Load(ctx); err != nil {
		return nil, fmt.Errorf("loading the olm account: %w", err)
	}
	if err := m.checkKeysOnServer(ctx); err != nil {
		return nil, err
	}
	return m, nil
}

// checkKeysOnServer uploads a new device's keys, and refuses a device
// whose keys on the homeserver are not the ones in the database (the
// messages in chat match these error texts: see classify).
func (m *machine) checkKeysOnServer(ctx context.Context) error {
	resp, err := m.client.QueryKeys(ctx, &mautrix.ReqQueryKeys{
		DeviceKeys: map[id.UserID]mautrix.DeviceIDList{m.client.UserID: {m.client.DeviceID}},
	})
	if err != nil {
		return fmt.Errorf("querying the device's own keys: %w", err)
	}
	shared := m.mach.GetAccount().Shared
	device, ok := resp.DeviceKeys[m.client.UserID][m.client.DeviceID]
	switch {
	case (!ok || len(device.Keys) == 0) && shared:
		return errors.New("olm account is marked as shared, keys seem to have disappeared from the server")
	case !ok || len(device.Keys) == 0:
		if err := m.mach.ShareKeys(ctx, -1); err != nil {
			return fmt.Errorf("uploading the device's keys: %w", err)
		}
		return nil
	case !shared:
		return errors.New("olm account is not marked as shared, but there are keys on the server")
	case device.Keys.GetEd25519(m.client.DeviceID) != m.mach.OwnIdentity().SigningKey:
		return errors.New("mismatching identity key on the server")
	}
	return nil
}

// Init is part of mautrix.CryptoHelper; newMachine has done the work.
func (m *machine) Init(context.Context) error { return nil }

// Encrypt encrypts content for a room, sharing a new group session with
// the room's members when there is none or it expired.
func (m *machine) Encrypt(ctx context.Context, room id.RoomID, typ event.Type, content any) (*event.EncryptedEventContent, error) {
	encrypted, err := m.mach.EncryptMegolmEvent(ctx, room, typ, content)
	if err == nil || !(errors.Is(err, crypto.ErrSessionExpired) || errors.Is(err, crypto.ErrNoGroupSession) || errors.Is(err, crypto.ErrSessionNotShared)) {
		return encrypted, err
	}
	users, err := m.client.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("reading the room's members: %w", err)
	}
	if err := m.mach.ShareGroupSession(ctx, room, users); err != nil {
		return nil, fmt.Errorf("sharing a group session: %w", err)
	}
	return m.mach.EncryptMegolmEvent(ctx, room, typ, content)
}

// Decrypt decrypts a room event.
func (m *machine) Decrypt(ctx context.Context, evt *event.Event) (*event.Event, error) {
	return m.mach.DecryptMegolmEvent(ctx, evt)
}

// WaitForSession waits up to timeout for a room key to arrive.
func (m *machine) WaitForSession(ctx context.Context, room id.RoomID, sender id.SenderKey, session id.SessionID, timeout time.Duration) bool {
	return m.mach.WaitForSession(ctx, room, sender, session, timeout)
}

// RequestSession asks the sender's device (every device, when unknown)
// and the bot's own other devices for a missing room key.
func (m *machine) RequestSession(ctx context.Context, room id.RoomID, sender id.SenderKey, session id.SessionID, user id.UserID, device id.DeviceID) {
	if device == "" {
		device = "*"
	}
	err := m.mach.SendRoomKeyRequest(ctx, room, sender, session, "", map[id.UserID][]id.DeviceID{
		user: {device}, m.client.UserID: {"*"},
	})
	if err != nil {
		m.log.Warn().Err(err).Str("room_id", room.String()).Msg("asking for a missing room key failed")
	}
}
