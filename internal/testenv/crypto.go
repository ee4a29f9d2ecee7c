//go:build goolm

package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	_ "modernc.org/sqlite" // the client's key store

	"github.com/osbuild/ibbot/bot/e2ee"
)

// NewCryptoUser is NewUser for a user whose client encrypts, as Element
// does: its messages in encrypted rooms are encrypted, and what it records
// is decrypted (Decrypted tells which were). Its keys live in a SQLite
// file of the test's.
func (d *Dendrite) NewCryptoUser(t testing.TB, localpart string) *User {
	t.Helper()
	ctx := context.Background()
	u, err := d.Register(ctx, localpart, "pw-"+localpart+"-secret")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "crypto.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e, err := e2ee.New(ctx, e2ee.Options{Client: u.Client, DB: db, Dialect: "sqlite",
		PickleKey: []byte("test-pickle-key-" + localpart), Log: zerolog.Nop()})
	if err != nil {
		t.Fatalf("encryption for %s: %v", localpart, err)
	}
	u.E2EE = e
	u.crypto = cryptoSync{e}
	if err := u.StartSync(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.StopSync)
	return u
}

type cryptoSync struct{ e *e2ee.E2EE }

func (c cryptoSync) process(ctx context.Context, resp *mautrix.RespSync, since string) {
	c.e.ProcessSync(ctx, resp, since)
}

func (c cryptoSync) decrypt(ctx context.Context, evt *event.Event) *event.Event {
	dec, err := c.e.Decrypt(ctx, evt, 5*time.Second)
	if err != nil {
		return evt
	}
	dec.Mautrix.EventSource |= event.SourceDecrypted
	return dec
}

// Decrypted reports whether e was encrypted and its recorder decrypted it.
func Decrypted(e *event.Event) bool { return e.Mautrix.EventSource&event.SourceDecrypted != 0 }

// CreateEncryptedRoom creates a private, encrypted room (as Element does
// by default) and invites the given users.
func (u *User) CreateEncryptedRoom(ctx context.Context, name string, invite ...id.UserID) (id.RoomID, error) {
	return u.createEncrypted(ctx, &mautrix.ReqCreateRoom{Name: name, Preset: "private_chat", Invite: invite})
}

// CreateDM opens a direct chat with other, encrypted, as Element does.
func (u *User) CreateDM(ctx context.Context, other id.UserID) (id.RoomID, error) {
	return u.createEncrypted(ctx, &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{other}})
}

func (u *User) createEncrypted(ctx context.Context, req *mautrix.ReqCreateRoom) (id.RoomID, error) {
	req.InitialState = append(req.InitialState, &event.Event{
		Type:    event.StateEncryption,
		Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}},
	})
	resp, err := u.Client.CreateRoom(ctx, req)
	if err != nil {
		return "", fmt.Errorf("creating an encrypted room: %w", err)
	}
	// The client must know the room is encrypted before its first send,
	// without waiting for the sync to say so.
	if err := u.E2EE.LearnRoomState(ctx, resp.RoomID); err != nil {
		return "", err
	}
	return resp.RoomID, nil
}
