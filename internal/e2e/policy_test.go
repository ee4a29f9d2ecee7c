package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
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

// TestNothingClearIntoAnEncryptedRoom: a bot that cannot encrypt (here
// encryption.enabled is false; a build without -tags goolm is the same)
// sends nothing into an end-to-end encrypted room, not an announcement,
// not a note: cleartext there is what its members chose to avoid. The
// announcement waits, and !status in another room names the room and why.
func TestNothingClearIntoAnEncryptedRoom(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	plain, err := s.human.CreateRoom(ctx, "plain", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.human.SendStateEvent(ctx, s.room, event.StateEncryption, "",
		&event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	cfg.Encryption.Enabled = false
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, plain.String())
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String(), plain.String()}, Repos: []string{"Codertocat/Hello-World"},
		Events: []config.Event{config.EventIssues}}}
	startBot(t, cfg)
	// What a client sends in an encrypted room; the homeserver does not
	// look inside, and neither can the bot.
	if _, err := s.human.SendMessageEvent(ctx, s.room, event.EventEncrypted, map[string]any{
		"algorithm": id.AlgorithmMegolmV1, "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg",
		"device_id": "ALICEDEVICE", "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
		"session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
	}); err != nil {
		t.Fatal(err)
	}
	body := delivery(t, "issues.opened.payload.json", numbered(4242, "an announcement for both rooms"))
	postDelivery(t, hook, "issues", "enc-4242", body, sign(body))
	ref := "Codertocat/Hello-World#4242"
	s.human.MustWait(t, wait, "the announcement in the plain room", func(e *event.Event) bool { return e.RoomID == plain && aboutItem(ref)(e) })

	status := s.human.MustSay(t, plain, "!status")
	got := testenv.Body(s.human.MustWait(t, wait, "!status", testenv.ReplyTo(status)))
	if !strings.Contains(got, s.room.String()+": the room is end-to-end encrypted and this bot cannot encrypt") || !strings.Contains(got, "(1 waiting)") {
		t.Errorf("!status does not name the encrypted room and its waiting message:\n%s", got)
	}
	for _, e := range s.human.Events() {
		if e.RoomID == s.room && e.Sender == s.botUser.UserID && e.Type == event.EventMessage {
			t.Errorf("the bot sent into the encrypted room: %s", testenv.Body(e))
		}
	}
}
