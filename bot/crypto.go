package bot

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot/e2ee"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/health"
)

// SharedPool gives mautrix's crypto and state stores their own pool on
// ibbot's database (store.DB.SharedPool).
type SharedPool func() (db *sql.DB, dialect string, closeFn func() error, err error)

const (
	kvPickleKey   = "crypto.pickle_key"
	kvRecoveryKey = "crypto.recovery_key"
	// A room key that has not arrived with its message is waited for
	// (defaultKeyWait), in the background, then asked for from the
	// sender's devices and waited for again (defaultKeyRequestWait).
	defaultKeyWait        = 3 * time.Second
	defaultKeyRequestWait = 20 * time.Second
)

// encryption is the bot's part of end-to-end encryption: starting it after
// login, and how !status sees it.
type encryption struct {
	cfg    config.Encryption
	pool   SharedPool
	e2ee   *e2ee.E2EE // nil: off, unavailable, or not started
	status health.State
	close  func() error
	// keyWait and keyRequestWait bound the waits for a missing room key.
	keyWait, keyRequestWait time.Duration

	mu   sync.Mutex
	told map[string]time.Time // room and sender -> when told a message was unreadable
}

// startEncryption turns encryption on for this run, or records why it is
// off: the bot then works as before in unencrypted rooms and tells
// encrypted ones once that it cannot read them.
func (b *Bot) startEncryption(ctx context.Context) error {
	enc := b.encryption
	switch {
	case !enc.cfg.Enabled:
		enc.status.Failing("off (encryption.enabled: false): nothing is read or sent in encrypted rooms; their messages wait", b.now())
		return nil
	case !e2ee.Available:
		b.encrypted.why = e2ee.ErrUnavailable.Error()
		b.log.Error().Msg(e2ee.ErrUnavailable.Error() + "; nothing is read or sent in encrypted rooms, their messages wait")
		enc.status.Failing(e2ee.ErrUnavailable.Error()+"; nothing is read or sent in encrypted rooms", b.now())
		return nil
	}
	e, err := b.newE2EE(ctx)
	if errors.Is(err, e2ee.ErrDeviceMismatch) {
		if err = b.newDevice(ctx, err); err == nil {
			e, err = b.newE2EE(ctx)
		}
	}
	if err != nil {
		return err
	}
	enc.e2ee = e
	b.crossSign(ctx)
	b.log.Info().Str("device_id", b.client.DeviceID.String()).Msg("End-to-end encryption on")
	return nil
}

func (b *Bot) newE2EE(ctx context.Context) (*e2ee.E2EE, error) {
	key, err := b.pickleKey(ctx)
	if err != nil {
		return nil, err
	}
	db, dialect, closeFn, err := b.encryption.pool()
	if err != nil {
		return nil, fmt.Errorf("opening the crypto store: %w", err)
	}
	e, err := e2ee.New(ctx, e2ee.Options{Client: b.client, DB: db, Dialect: dialect, PickleKey: key,
		OnlyCrossSigned: b.encryption.cfg.ShareKeysWith == config.ShareWithCrossSigned,
		Log:             b.log.With().Str("component", "crypto").Logger()})
	if err != nil {
		closeFn()
		return nil, err
	}
	b.encryption.close = closeFn
	return e, nil
}

// pickleKey is the configured one, or else one generated at the first
// start and kept in the database (said in the log: the keys are then only
// as safe as the database).
func (b *Bot) pickleKey(ctx context.Context) ([]byte, error) {
	if k := b.encryption.cfg.PickleKey.Value(); k != "" {
		return []byte(k), nil
	}
	stored, ok, err := b.store.Get(ctx, kvPickleKey)
	if err != nil {
		return nil, err
	}
	if !ok {
		buf := make([]byte, 32)
		rand.Read(buf)
		stored = hex.EncodeToString(buf)
		if err := b.store.Put(ctx, kvPickleKey, stored); err != nil {
			return nil, err
		}
	}
	b.log.Warn().Msg("encryption.pickle_key is not set: using one kept in the database, so the crypto keys are only as safe as the database. Set IBBOT_PICKLE_KEY (before the first start; a new key later means a new device)")
	return []byte(stored), nil
}

// newDevice recovers from crypto keys that no longer match the device
// (the tables were lost): it logs in again as a new device, which starts
// with fresh keys. That needs the password.
func (b *Bot) newDevice(ctx context.Context, cause error) error {
	if b.cfg.Password.Value() == "" {
		return fmt.Errorf("%w; starting a new device needs matrix.password, or a new access token from `ibbot login` (with the device id it gives)", cause)
	}
	b.log.Warn().Err(cause).Str("old_device_id", b.client.DeviceID.String()).
		Msg("The crypto keys in the database do not match this device on the homeserver (lost or replaced tables): logging in as a new device")
	resp, err := b.client.Login(ctx, &mautrix.ReqLogin{
		Type:                     mautrix.AuthTypePassword,
		Identifier:               mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: b.cfg.UserID.String()},
		Password:                 b.cfg.Password.Value(),
		InitialDeviceDisplayName: b.cfg.DeviceName,
		StoreCredentials:         true,
	})
	if err != nil {
		return fmt.Errorf("logging in as a new device: %w", err)
	}
	b.log.Info().Str("device_id", resp.DeviceID.String()).Msg("Logged in as a new device")
	return b.saveSession(ctx, "")
}

// crossSign makes the device cross-signed by the account's master key, so
// clients that trust only cross-signed devices share their keys with it.
// Failing that is a warning: the bot still works with clients that share
// keys with unverified devices (Element's default today).
func (b *Bot) crossSign(ctx context.Context) {
	e := b.encryption.e2ee
	recovery := b.encryption.cfg.RecoveryKey.Value()
	if recovery == "" {
		recovery, _, _ = b.store.Get(ctx, kvRecoveryKey)
	}
	created, err := e.CrossSign(ctx, b.cfg.Password.Value(), recovery)
	if err != nil {
		b.log.Warn().Err(err).Msg("The bot's device is not cross-signed; clients that share keys only with cross-signed devices will not send it theirs")
	}
	if created != "" {
		if err := b.store.Put(ctx, kvRecoveryKey, created); err != nil {
			b.log.Error().Err(err).Msg("Keeping the new recovery key failed")
		}
		b.log.Warn().Msg("Created cross-signing keys for the bot's account and signed its device. Print their recovery key " +
			"with `ibbot recovery-key -config FILE` and keep it apart from the database (a Secret, as IBBOT_RECOVERY_KEY): " +
			"a bot whose database is lost needs it to sign its new device")
	}
	st := e.Status(ctx)
	switch {
	case st.CrossSigned:
		b.encryption.status.Working("device "+st.Device+", cross-signed", b.now())
	default:
		b.encryption.status.Failing("device "+st.Device+", not cross-signed: "+st.Problem, b.now())
	}
}

// learnEncryptedRooms finds out which of the bot's rooms are encrypted,
// for rooms joined before encryption was on (their state never came
// through a sync the state store saw).
func (b *Bot) learnEncryptedRooms(ctx context.Context, joined []id.RoomID) {
	for _, room := range joined {
		if err := b.encryption.e2ee.LearnRoomState(ctx, room); err != nil {
			b.log.Warn().Err(err).Str("room_id", room.String()).Msg("Reading whether the room is encrypted failed")
		}
	}
}

// decrypted returns an encrypted event's plaintext. A room key that has
// not arrived yet is asked for in the background; then handle gets the
// event when it can be read.
func (b *Bot) decrypted(ctx context.Context, evt *event.Event, handle func(*event.Event)) (*event.Event, bool) {
	e := b.encryption.e2ee
	dec, err := e.Decrypt(ctx, evt, 0)
	if err == nil {
		return dec, true
	}
	if !e2ee.IsNoSession(err) {
		b.decryptionFailed(evt, "error", err)
		return nil, false
	}
	go func() {
		dec, err := e.Decrypt(ctx, evt, b.encryption.keyWait)
		if e2ee.IsNoSession(err) {
			dec, err = e.RequestAndWait(ctx, evt, b.encryption.keyRequestWait)
		}
		switch {
		case e2ee.IsNoSession(err):
			b.decryptionFailed(evt, "no_session", err)
			b.tellUnreadable(ctx, evt)
		case err != nil:
			b.decryptionFailed(evt, "error", err)
		default:
			handle(dec)
		}
	}()
	return nil, false
}

// tellUnreadable answers a message whose room key never came, so the
// sender is not left with silence: their client did not give the bot's
// device the key (often a client that shares keys only with verified
// devices). Once a day per sender and room, whatever they send meanwhile.
func (b *Bot) tellUnreadable(ctx context.Context, evt *event.Event) {
	enc := b.encryption
	who := evt.RoomID.String() + " " + evt.Sender.String()
	now := b.now()
	enc.mu.Lock()
	if last, ok := enc.told[who]; ok && now.Sub(last) < 24*time.Hour {
		enc.mu.Unlock()
		return
	}
	if enc.told == nil {
		enc.told = map[string]time.Time{}
	}
	enc.told[who] = now
	enc.mu.Unlock()
	reply := TextReply("I could not read your message: your client did not give my device (%s) its key. If it shares keys "+
		"only with verified devices, verify me or allow unverified ones, then send it again.", b.client.DeviceID)
	if err := b.enqueue(context.WithoutCancel(ctx), "unreadable:"+evt.ID.String(), evt.RoomID, noticeContent(reply, evt.ID, "")); err != nil {
		b.log.Error().Err(err).Msg("Queueing the note about an unreadable message failed")
	}
}

func (b *Bot) decryptionFailed(evt *event.Event, reason string, err error) {
	b.metrics.DecryptionFailures.WithLabelValues(reason).Inc()
	b.log.Warn().Err(err).Str("event_id", evt.ID.String()).Str("room_id", evt.RoomID.String()).
		Str("sender", evt.Sender.String()).Msg("Could not decrypt an event")
}

// EncryptionHealth reports encryption for !status: the device, whether it
// is cross-signed, or why encryption is off.
func (b *Bot) EncryptionHealth() health.Reporter { return encryptionReport{b.encryption} }

type encryptionReport struct{ e *encryption }

func (r encryptionReport) Health() health.Report {
	rep := r.e.status.Report("encryption", "starting")
	return rep
}

// StoredRecoveryKey is the recovery key of the cross-signing keys the bot
// created, as kept in its database (for `ibbot recovery-key`).
func StoredRecoveryKey(ctx context.Context, kv KV) (string, bool, error) {
	return kv.Get(ctx, kvRecoveryKey)
}

// stop releases what startEncryption opened.
func (e *encryption) stop() {
	if e.close != nil {
		e.close()
	}
}

// prepareRoom readies a room for the next message: in an encrypted room,
// its member list must be known before a room key is shared.
func (b *Bot) prepareRoom(ctx context.Context, room string) error {
	if b.encryption.e2ee == nil {
		return b.encrypted.check(ctx, id.RoomID(room))
	}
	return b.encryption.e2ee.PrepareRoom(ctx, id.RoomID(room))
}

// roomEncrypted asks the homeserver whether room is end-to-end
// encrypted (it has an m.room.encryption state event).
func (b *Bot) roomEncrypted(ctx context.Context, room id.RoomID) (bool, error) {
	var content event.EncryptionEventContent
	err := b.client.StateEvent(ctx, room, event.StateEncryption, "", &content)
	switch {
	case err == nil:
		return content.Algorithm != "", nil
	case errors.Is(err, mautrix.MNotFound):
		return false, nil
	}
	return false, err
}

// encryptedRoom reports whether the bot encrypts in room.
func (b *Bot) encryptedRoom(ctx context.Context, room id.RoomID) bool {
	return b.encryption.e2ee != nil && b.encryption.e2ee.IsEncrypted(ctx, room)
}
