//go:build goolm

package e2ee

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/crypto/signatures"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Available reports whether this build can encrypt.
const Available = true

// E2EE is a running encryption: one device, its keys in the database.
type E2EE struct {
	client *mautrix.Client
	helper *machine
	opts   Options

	members     sync.Map // rooms whose member list is loaded
	mu          sync.Mutex
	crossSigned bool
	problem     string
}

// New loads (or creates, on a new device) the device's keys from the
// database and makes the client encrypt in encrypted rooms. The crypto
// account is kept per device id, so a new device starts fresh instead of
// tripping over an old device's keys.
func New(ctx context.Context, o Options) (*E2EE, error) {
	db, err := dbutil.NewWithDB(o.DB, o.Dialect)
	if err != nil {
		return nil, fmt.Errorf("crypto store: %w", err)
	}
	helper, err := newMachine(ctx, o.Client, db, o.PickleKey, o.Log.With().Str("component", "crypto").Logger())
	if err != nil {
		return nil, classify(err)
	}
	if o.OnlyCrossSigned {
		helper.mach.SendKeysMinTrust = id.TrustStateCrossSignedTOFU
	}
	o.Client.Crypto = helper
	return &E2EE{client: o.Client, helper: helper, opts: o}, nil
}

// classify marks the errors that mean the database's keys and the
// server's do not belong together (see ErrDeviceMismatch).
func classify(err error) error {
	for _, sign := range []string{"keys seem to have disappeared", "there are keys on the server",
		"mismatching identity key", "mismatching device ID"} {
		if strings.Contains(err.Error(), sign) {
			return fmt.Errorf("%w: %v", ErrDeviceMismatch, err)
		}
	}
	return fmt.Errorf("starting encryption: %w", err)
}

// ProcessSync does for one sync batch what cryptohelper's sync hooks
// would: to-device events (room keys), device lists and one-time key
// counts first, then room state into the state store and the members'
// devices. Call it before handling the batch's events and before saving
// its token.
func (e *E2EE) ProcessSync(ctx context.Context, resp *mautrix.RespSync, since string) {
	mach := e.helper.mach
	mach.ProcessSyncResponse(ctx, resp, since)
	for roomID, room := range resp.Rooms.Join {
		e.learn(ctx, roomID, room.State.Events)
		e.learn(ctx, roomID, room.Timeline.Events)
	}
	for roomID, room := range resp.Rooms.Leave {
		e.learn(ctx, roomID, room.State.Events)
		e.learn(ctx, roomID, room.Timeline.Events)
	}
}

func (e *E2EE) learn(ctx context.Context, roomID id.RoomID, events []*event.Event) {
	mach := e.helper.mach
	for _, evt := range events {
		if evt.StateKey == nil {
			continue
		}
		evt.RoomID = roomID
		if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
			continue
		}
		mautrix.UpdateStateStore(ctx, e.client.StateStore, evt)
		switch evt.Type {
		case event.StateMember:
			mach.HandleMemberEvent(ctx, evt)
		case event.StateHistoryVisibility:
			mach.HandleHistoryVisibility(ctx, evt)
		}
	}
}

// Decrypt decrypts an m.room.encrypted event, waiting up to wait for its
// room key when it has not arrived yet.
func (e *E2EE) Decrypt(ctx context.Context, evt *event.Event, wait time.Duration) (*event.Event, error) {
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return nil, err
	}
	dec, err := e.helper.Decrypt(ctx, evt)
	if errors.Is(err, crypto.ErrNoSessionFound) && wait > 0 {
		c := evt.Content.AsEncrypted()
		if e.helper.WaitForSession(ctx, evt.RoomID, c.SenderKey, c.SessionID, wait) {
			dec, err = e.helper.Decrypt(ctx, evt)
		}
	}
	return dec, err
}

// RequestAndWait asks the sender's devices (and the bot's own) for a
// missing room key, then waits up to wait for it.
func (e *E2EE) RequestAndWait(ctx context.Context, evt *event.Event, wait time.Duration) (*event.Event, error) {
	c := evt.Content.AsEncrypted()
	e.helper.RequestSession(ctx, evt.RoomID, c.SenderKey, c.SessionID, evt.Sender, c.DeviceID)
	return e.Decrypt(ctx, evt, wait)
}

// IsNoSession reports whether err is a room key that has not arrived.
func IsNoSession(err error) bool { return errors.Is(err, crypto.ErrNoSessionFound) }

// IsEncrypted reports whether the room is encrypted.
func (e *E2EE) IsEncrypted(ctx context.Context, room id.RoomID) bool {
	enc, err := e.client.StateStore.IsEncrypted(ctx, room)
	return err == nil && enc
}

// PrepareRoom loads an encrypted room's member list before the first
// message the bot encrypts there: the sync's lazy loading leaves members
// out, and a room key must reach every member's devices.
func (e *E2EE) PrepareRoom(ctx context.Context, room id.RoomID) error {
	if !e.IsEncrypted(ctx, room) {
		return nil
	}
	if _, done := e.members.Load(room); done {
		return nil
	}
	if _, err := e.client.Members(ctx, room); err != nil {
		return fmt.Errorf("loading the members of %s: %w", room, err)
	}
	e.members.Store(room, true)
	return nil
}

// LearnRoomState reads whether a room the bot is in is encrypted, for
// rooms joined before encryption was on (their state never came through
// a sync the state store saw).
func (e *E2EE) LearnRoomState(ctx context.Context, room id.RoomID) error {
	var content event.EncryptionEventContent
	err := e.client.StateEvent(ctx, room, event.StateEncryption, "", &content)
	if errors.Is(err, mautrix.MNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return e.client.StateStore.SetEncryptionEvent(ctx, room, &content)
}

// CrossSign makes sure the bot's device is cross-signed by its own master
// key. An account without cross-signing keys gets them (their upload asks
// for the password); the new recovery key is returned, once. An account
// that has them signs this device with recoveryKey, when given.
func (e *E2EE) CrossSign(ctx context.Context, password, recoveryKey string) (string, error) {
	signed, err := e.deviceCrossSigned(ctx)
	if err != nil {
		return "", e.note(false, fmt.Errorf("checking cross-signing: %w", err))
	}
	if signed {
		return "", e.note(true, nil)
	}
	mach := e.helper.mach
	keys, err := mach.GetCrossSigningPublicKeys(ctx, e.client.UserID)
	if err != nil {
		return "", e.note(false, fmt.Errorf("reading the account's cross-signing keys: %w", err))
	}
	if keys == nil {
		return e.createCrossSigning(ctx, password)
	}
	if recoveryKey == "" {
		return "", e.note(false, errors.New("the device is not cross-signed: give the recovery key (IBBOT_RECOVERY_KEY) so it can sign itself"))
	}
	if err := mach.VerifyWithRecoveryKey(ctx, recoveryKey); err != nil {
		return "", e.note(false, fmt.Errorf("signing the device with the recovery key: %w", err))
	}
	return "", e.note(true, nil)
}

func (e *E2EE) createCrossSigning(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", e.note(false, errors.New("the account has no cross-signing keys, and uploading new ones needs its password: set matrix.password once (or cross-sign from a client)"))
	}
	mach := e.helper.mach
	recovery, _, err := mach.GenerateAndUploadCrossSigningKeysWithPassword(ctx, password, "")
	if err == nil {
		err = mach.SignOwnDevice(ctx, mach.OwnIdentity())
	}
	if err == nil {
		err = mach.SignOwnMasterKey(ctx)
	}
	if err != nil {
		return "", e.note(false, fmt.Errorf("creating cross-signing keys: %w", err))
	}
	return recovery, e.note(true, nil)
}

// deviceCrossSigned reports whether this device is cross-signed.
func (e *E2EE) deviceCrossSigned(ctx context.Context) (bool, error) {
	return e.CrossSigned(ctx, e.client.UserID, e.client.DeviceID)
}

// CrossSigned asks the homeserver whether a user's device is signed by the
// user's self-signing key, itself signed by the user's master key: what a
// client checks before it trusts the device as its owner's.
func (e *E2EE) CrossSigned(ctx context.Context, user id.UserID, device id.DeviceID) (bool, error) {
	resp, err := e.client.QueryKeys(ctx, &mautrix.ReqQueryKeys{DeviceKeys: mautrix.DeviceKeysRequest{user: {device}}})
	if err != nil {
		return false, err
	}
	master, hasMaster := resp.MasterKeys[user]
	ssk, hasSSK := resp.SelfSigningKeys[user]
	keys, known := resp.DeviceKeys[user][device]
	if !hasMaster || !hasSSK || !known {
		return false, nil
	}
	return signedByAny(ssk, user, master.Keys) && signedByAny(keys, user, ssk.Keys), nil
}

// signedByAny reports whether obj carries a valid signature by user with
// one of keys.
func signedByAny(obj any, user id.UserID, keys map[id.KeyID]id.Ed25519) bool {
	for _, key := range keys {
		if ok, _ := signatures.VerifySignatureJSON(obj, user, key.String(), key); ok {
			return true
		}
	}
	return false
}

func (e *E2EE) note(signed bool, err error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.crossSigned, e.problem = signed, ""
	if err != nil {
		e.problem = err.Error()
	}
	return err
}

// Status is the device and its cross-signing, for !status.
func (e *E2EE) Status(context.Context) Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Status{Available: true, Device: e.client.DeviceID.String(), CrossSigned: e.crossSigned, Problem: e.problem}
}
