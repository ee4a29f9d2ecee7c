package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// TestFloodLimit: a user over the limit is told once, then ignored until
// the window passes; other users are unaffected.
func TestFloodLimit(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Flood.Commands = 3
	cfg.Matrix.Flood.Window = time.Hour
	startBot(t, cfg)

	var sent []id.EventID
	for range 6 {
		sent = append(sent, s.human.MustSay(t, s.room, "!ping"))
	}
	warning := s.human.MustWait(t, wait, "the flood warning", testenv.ReplyTo(sent[3]))
	if !strings.Contains(testenv.Body(warning), "too fast") {
		t.Errorf("fourth command got %q, want the flood warning", testenv.Body(warning))
	}
	bob := s.hs.NewUser(t, "bob")
	if _, err := bob.JoinRoomByID(context.Background(), s.room); err != nil {
		t.Fatal(err)
	}
	probe := bob.MustSay(t, s.room, "!ping")
	s.human.MustWait(t, wait, "another user's answer", testenv.ReplyTo(probe))
	for i, evt := range sent {
		want := 1
		if i > 3 {
			want = 0
		}
		if n := s.human.Count(testenv.ReplyTo(evt)); n != want {
			t.Errorf("command %d answered %d times, want %d", i+1, n, want)
		}
	}
}

// TestAdminCommandNeedsPowerLevel: !status answers the room creator (power
// 100) and refuses a plain member.
func TestAdminCommandNeedsPowerLevel(t *testing.T) {
	s := newStack(t)
	startBot(t, s.config(s.hs.URL))

	admin := s.human.MustSay(t, s.room, "!status")
	got := testenv.Body(s.human.MustWait(t, wait, "admin answer", testenv.ReplyTo(admin)))
	if !strings.Contains(got, "waiting to be sent") {
		t.Errorf("admin got %q, want the status", got)
	}
	bob := s.hs.NewUser(t, "bob")
	if _, err := bob.JoinRoomByID(context.Background(), s.room); err != nil {
		t.Fatal(err)
	}
	member := bob.MustSay(t, s.room, "!status")
	got = testenv.Body(s.human.MustWait(t, wait, "member answer", testenv.ReplyTo(member)))
	if !strings.Contains(got, "is for room admins") {
		t.Errorf("plain member got %q, want a refusal", got)
	}
}

// TestInvites: the bot joins rooms it is invited to by allowed users and
// declines everyone else's invitations.
func TestInvites(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Invites.Allow = []string{s.human.UserID.String()}
	startBot(t, cfg)
	ctx := context.Background()

	allowed, err := s.human.CreateRoom(ctx, "allowed", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the bot joining", isJoinOf(s.botUser.UserID, allowed))
	cmd := s.human.MustSay(t, allowed, "!ping")
	s.human.MustWait(t, wait, "answer in the new room", testenv.ReplyTo(cmd))

	mallory := s.hs.NewUser(t, "mallory")
	denied, err := mallory.CreateRoom(ctx, "denied", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	mallory.MustWait(t, wait, "the bot declining", func(e *event.Event) bool {
		return e.RoomID == denied && e.Type == event.StateMember && e.GetStateKey() == s.botUser.UserID.String() &&
			e.Content.AsMember().Membership == event.MembershipLeave
	})
}

func isJoinOf(user id.UserID, room id.RoomID) func(*event.Event) bool {
	return func(e *event.Event) bool {
		return e.RoomID == room && e.Type == event.StateMember && e.GetStateKey() == user.String() &&
			e.Content.AsMember().Membership == event.MembershipJoin
	}
}

// TestEncryptedRoomIsToldOnce: the bot cannot read an end-to-end encrypted
// room, so when someone writes there it says so, once ever (not once per
// message, not again after a restart), instead of staying silent.
func TestEncryptedRoomIsToldOnce(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Encryption.Enabled = false
	first := startBot(t, cfg)
	ctx := context.Background()
	if _, err := s.human.SendStateEvent(ctx, s.room, event.StateEncryption, "",
		&event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
		t.Fatal(err)
	}
	sendEncrypted := func() {
		t.Helper()
		// What a client sends in an encrypted room; the homeserver does not
		// look inside, and neither can the bot.
		_, err := s.human.SendMessageEvent(ctx, s.room, event.EventEncrypted, map[string]any{
			"algorithm": id.AlgorithmMegolmV1, "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg",
			"device_id": "ALICEDEVICE", "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
			"session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	isNote := func(e *event.Event) bool {
		return isNotice(e) && strings.Contains(testenv.Body(e), "end-to-end encrypted")
	}

	sendEncrypted()
	note := s.human.MustWait(t, wait, "the note about encryption", isNote)
	if m := note.Content.AsMessage(); m.RelatesTo != nil || m.Mentions == nil || len(m.Mentions.UserIDs) != 0 {
		t.Errorf("the note should stand alone and ping nobody: %+v", m)
	}
	sendEncrypted()
	s.settle(t)
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	startBot(t, cfg)
	sendEncrypted()
	s.settle(t)
	if n := s.human.Count(isNote); n != 1 {
		t.Errorf("the room was told %d times, want once", n)
	}
}
