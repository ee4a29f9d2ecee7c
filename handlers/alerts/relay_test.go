package alerts

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestAGroupIsOneMessage: a group fires (one message in each room its
// labels route to), is sent again unchanged (nothing), one alert resolves
// (the message edited, a thread line): on a real SQLite store.
func TestAGroupIsOneMessage(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := &testenv.Recorder{}
	scope := scopeOf(t, st, []Route{
		{Rooms: []string{"!ops:x"}, Filter: Filter{Match: map[string]string{"severity": "critical|warning"}}},
		{Rooms: []string{"!quiet:x"}, Filter: Filter{Match: map[string]string{"severity": "info"}}},
		{Rooms: []string{"!all:x"}, Filter: Filter{Exclude: map[string]string{"team": "secret"}}},
	})
	r := &Relay{Store: st, Poster: rec, Log: zerolog.Nop(), Scope: scope}
	deliver := func(body string, at int) {
		t.Helper()
		if _, err := st.RecordAlert(ctx, fmt.Sprintf("am:%d", at), []byte(body), time.Unix(int64(at), 0)); err != nil {
			t.Fatal(err)
		}
		if err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cmd := Command(st, scope, func() time.Time { return time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC) })
	firingNow := func(room string) string {
		t.Helper()
		rep, err := cmd.Run(ctx, bot.Request{Command: "alerts", RoomID: id.RoomID(room)})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	deliver(firing, 1)
	deliver(firing, 2) // repeat_interval
	if got := firingNow("!ops:x"); got != "🔥 ComposerDown (critical): 1 alert, firing since 30 minutes ago — composer is down" {
		t.Errorf("!alerts in a room it is routed to: %q", got)
	}
	if got := firingNow("!quiet:x"); got != "✓ Nothing fires." {
		t.Errorf("!alerts in a room it is not routed to: %q", got)
	}
	sent := rec.All()
	if len(sent) != 2 || sent[0].Room != "!ops:x" || sent[1].Room != "!all:x" || !strings.HasPrefix(sent[0].Plain, "🔥 ComposerDown (critical): 1 firing") {
		t.Fatalf("after firing and a resend: %+v", sent)
	}
	resolved := strings.NewReplacer(`"status":"firing"`, `"status":"resolved"`).Replace(firing)
	deliver(resolved, 3)
	sent = rec.All()[2:]
	if got := firingNow("!ops:x"); got != "✓ Nothing fires." {
		t.Errorf("!alerts after the resolution: %q", got)
	}
	if len(sent) != 4 || sent[0].Rel != "edit" || !strings.HasPrefix(sent[0].Plain, "✓ resolved: ComposerDown") ||
		sent[1].Rel != "thread" || sent[1].Plain != "✓ resolved: instance=composer-1" {
		t.Errorf("after resolving: %+v", sent)
	}
}

// scopeOf is the alerts' scope over routes, on the test's store, as ibbot
// wires it (the rooms named by id).
func scopeOf(t *testing.T, st *store.DB, routes []Route) *Scope {
	t.Helper()
	names := roomscope.NamesFunc(func(name string, room id.RoomID) bool { return name == room.String() })
	reg, err := roomscope.Open(context.Background(), st, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := roomscope.Add(context.Background(), reg, Source(routes))
	if err != nil {
		t.Fatal(err)
	}
	return scope
}

// TestARoomMutesTheAlerts: a room admin mutes in chat what the routes send
// the room; its groups go to the other rooms only, a new scope over the
// same store (a restart) keeps the mute, and unmuting brings them back.
// A room no route names is told so.
func TestARoomMutesTheAlerts(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	routes := []Route{{Rooms: []string{"!ops:x", "!all:x"}}}
	now := func() time.Time { return time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC) }
	say := func(scope *Scope, room, verb string) string {
		t.Helper()
		rep, err := Command(st, scope, now).Run(ctx, bot.Request{Command: "alerts", Prefix: "!", Args: []string{verb},
			RoomID: id.RoomID(room), Sender: "@admin:x"})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	scope := scopeOf(t, st, routes)
	if got := say(scope, "!ops:x", "mute"); got != "@admin:x muted the alerts in this room; `!alerts unmute` brings them back." {
		t.Errorf("mute: %q", got)
	}
	if got := say(scope, "!ops:x", "mute"); !strings.HasPrefix(got, "The alerts are already muted here") {
		t.Errorf("mute again: %q", got)
	}
	if got := say(scope, "!elsewhere:x", "mute"); got != "The operator's config sends the alerts to other rooms, not this one." {
		t.Errorf("mute where no route goes: %q", got)
	}
	if got := say(scope, "!ops:x", "silence"); got != "usage: !alerts, or (room admins) !alerts mute|unmute" {
		t.Errorf("an unknown word: %q", got)
	}
	if cmd := Command(st, scope, now); cmd.AdminIf([]string{"silence"}) || !cmd.AdminIf([]string{"mute"}) || cmd.AdminIf(nil) {
		t.Error("only mute and unmute need a room admin")
	}
	rec := &testenv.Recorder{}
	r := &Relay{Store: st, Poster: rec, Log: zerolog.Nop(), Scope: scopeOf(t, st, routes)} // as after a restart
	if _, err := st.RecordAlert(ctx, "am:1", []byte(firing), now()); err != nil {
		t.Fatal(err)
	}
	if err := r.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := rec.All(); len(sent) != 1 || sent[0].Room != "!all:x" {
		t.Fatalf("with !ops:x muted: %+v", sent)
	}
	if got := say(r.Scope, "!ops:x", "unmute"); got != "@admin:x unmuted the alerts: this room gets them again." {
		t.Errorf("unmute: %q", got)
	}
	if _, err := st.RecordAlert(ctx, "am:2", []byte(strings.ReplaceAll(firing, "ComposerDown", "ComposerSlow")), now()); err != nil {
		t.Fatal(err)
	}
	if err := r.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := rec.All()[1:]; len(sent) != 2 || sent[0].Room != "!ops:x" {
		t.Errorf("after unmuting: %+v", sent)
	}
}
