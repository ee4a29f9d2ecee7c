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
	r := &Relay{Store: st, Poster: rec, Log: zerolog.Nop(), Routes: []Route{
		{Rooms: []string{"!ops:x"}, Match: map[string]string{"severity": "critical|warning"}},
		{Rooms: []string{"!quiet:x"}, Match: map[string]string{"severity": "info"}},
		{Rooms: []string{"!all:x"}, Exclude: map[string]string{"team": "secret"}},
	}}
	deliver := func(body string, at int) {
		t.Helper()
		if _, err := st.RecordAlert(ctx, fmt.Sprintf("am:%d", at), []byte(body), time.Unix(int64(at), 0)); err != nil {
			t.Fatal(err)
		}
		if err := r.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cmd := Command(st, func() time.Time { return time.Date(2026, 12, 5, 10, 30, 0, 0, time.UTC) })
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
