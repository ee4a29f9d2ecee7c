package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestRoomsThatLetTheBotGo: the bot is kicked from one room, banned from
// another, and its power level in a third is put below what a message
// needs. Announcements keep reaching a fourth room; the three are named in
// !status; nothing is sent there, and after a restart the bot does not
// rejoin the rooms it was made to leave. Invited back (unbanned first),
// or its level restored, each gets the announcement that waited.
func TestRoomsThatLetTheBotGo(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	rooms := map[string]id.RoomID{"other": s.room}
	for _, name := range []string{"kick", "ban", "muted"} {
		room, err := s.human.CreateRoom(ctx, name, s.botUser.UserID)
		if err != nil {
			t.Fatal(err)
		}
		rooms[name] = room
	}
	cfg := s.config(s.hs.URL)
	var all []string
	for _, r := range rooms {
		all = append(all, r.String())
	}
	cfg.Matrix.Rooms = all
	hook := withWebhook(t, cfg)
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: all, Repos: []string{"Codertocat/Hello-World"}, Events: []config.Event{config.EventIssues}}}
	first := startBot(t, cfg)

	if _, err := s.human.KickUser(ctx, rooms["kick"], &mautrix.ReqKickUser{UserID: s.botUser.UserID, Reason: "too chatty"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.human.BanUser(ctx, rooms["ban"], &mautrix.ReqBanUser{UserID: s.botUser.UserID, Reason: "spam"}); err != nil {
		t.Fatal(err)
	}
	var pl event.PowerLevelsEventContent
	if err := s.human.StateEvent(ctx, rooms["muted"], event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	if pl.Events == nil {
		pl.Events = map[string]int{}
	}
	pl.Events[event.EventMessage.Type] = 50
	if _, err := s.human.SendStateEvent(ctx, rooms["muted"], event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}

	// The bot has seen all three before the announcement comes.
	var status string
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); {
		cmd := s.human.MustSay(t, rooms["other"], "!status")
		status = testenv.Body(s.human.MustWait(t, wait, "!status", testenv.ReplyTo(cmd)))
		if strings.Contains(status, rooms["kick"].String()) && strings.Contains(status, rooms["ban"].String()) && strings.Contains(status, rooms["muted"].String()+": the bot's power level") {
			break
		}
	}
	for _, want := range []string{
		rooms["kick"].String() + `: the bot was kicked by ` + s.human.UserID.String() + ` ("too chatty")`,
		rooms["ban"].String() + `: the bot was banned by ` + s.human.UserID.String() + ` ("spam")`,
		rooms["muted"].String() + ": the bot's power level there (0) is below the 50 sending needs",
	} {
		if !strings.Contains(status, want) {
			t.Errorf("!status lacks %q:\n%s", want, status)
		}
	}

	body := delivery(t, "issues.opened.payload.json", numbered(7001, "while the bot is away"))
	postDelivery(t, hook, "issues", "gone-7001", body, sign(body))
	ref := "Codertocat/Hello-World#7001"
	in := func(room id.RoomID) func(*event.Event) bool {
		return func(e *event.Event) bool { return e.RoomID == room && aboutItem(ref)(e) }
	}
	s.human.MustWait(t, wait, "the announcement in the room that keeps the bot", in(rooms["other"]))

	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	startBot(t, cfg)
	// Their announcements wait, so the queue is never empty: a probe's
	// answer shows the restarted bot at work instead.
	probe := s.human.MustSay(t, rooms["other"], "!ping")
	s.human.MustWait(t, wait, "the probe's answer", testenv.ReplyTo(probe))
	for _, name := range []string{"kick", "ban", "muted"} {
		if s.human.Count(in(rooms[name])) != 0 {
			t.Errorf("the announcement reached the %s room", name)
		}
	}
	if s.human.Count(isJoinOf(s.botUser.UserID, rooms["kick"])) != 1 {
		t.Error("the bot rejoined the room it was kicked from at its restart")
	}

	if _, err := s.human.InviteUser(ctx, rooms["kick"], &mautrix.ReqInviteUser{UserID: s.botUser.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.human.UnbanUser(ctx, rooms["ban"], &mautrix.ReqUnbanUser{UserID: s.botUser.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.human.InviteUser(ctx, rooms["ban"], &mautrix.ReqInviteUser{UserID: s.botUser.UserID}); err != nil {
		t.Fatal(err)
	}
	pl.Events[event.EventMessage.Type] = 0
	if _, err := s.human.SendStateEvent(ctx, rooms["muted"], event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kick", "ban", "muted"} {
		s.human.MustWait(t, wait, "the waiting announcement in the "+name+" room", in(rooms[name]))
	}
}
