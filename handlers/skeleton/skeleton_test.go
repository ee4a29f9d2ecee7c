package skeleton

import (
	"context"
	"path/filepath"
	"slices"
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

// feed is the outside: the items it has now.
type feed []Item

func (f *feed) Items(context.Context) ([]Item, error) { return *f, nil }

// names: the config's #main:x is !main:x, as the bot resolves it.
var names = roomscope.NamesFunc(func(name string, room id.RoomID) bool {
	return name == room.String() || (name == "#main:x" && room == "!main:x")
})

// source is the skeleton on a real SQLite store, as ibbot wires a source:
// the registry read once, the source added to it, the store as its state.
type source struct {
	reg     *roomscope.Registry
	watcher *Watcher
	command bot.Command
}

func start(t *testing.T, st *store.DB, f Feed, rec *testenv.Recorder) *source {
	t.Helper()
	ctx := context.Background()
	reg, err := roomscope.Open(ctx, st, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := []roomscope.Rule[Filter]{{Rooms: []string{"#main:x"}, Targets: []string{"status/*"}}}
	scope, err := roomscope.Add(ctx, reg, Source(rules))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC) }
	return &source{reg: reg, command: Command(scope, now),
		watcher: &Watcher{Feed: f, Scope: scope, Store: st, Poster: rec, Interval: time.Minute, Log: zerolog.Nop(), Now: now}}
}

func (s *source) check(t *testing.T) {
	t.Helper()
	if _, err := s.watcher.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (s *source) ask(t *testing.T, room id.RoomID, args ...string) string {
	t.Helper()
	rep, err := s.command.Run(context.Background(), bot.Request{Command: Kind, Args: args, Prefix: "!", RoomID: room, Sender: "@admin:x"})
	if err != nil {
		t.Fatal(err)
	}
	return rep.Plain
}

// delivered lists "room: target: title" of each announcement from the
// n-th on (the plain text's link address left out).
func delivered(rec *testenv.Recorder, from int) []string {
	var out []string
	for _, m := range rec.All()[from:] {
		text, _, _ := strings.Cut(m.Plain, " (")
		out = append(out, m.Room+": "+text)
	}
	slices.Sort(out)
	return out
}

// TestTheSkeletonKeepsTheContract: the config's rooms get what they
// follow; a room's own subscription from chat, with its filter, adds it;
// nothing is announced twice across a restart; a room's choices follow
// it when it is upgraded.
func TestTheSkeletonKeepsTheContract(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := &testenv.Recorder{}
	f := &feed{{ID: "1", Target: "status/fedora", Title: "Koji outage", URL: "https://status.example/1"}}
	s := start(t, st, f, rec)
	s.check(t)
	if got := delivered(rec, 0); !slices.Equal(got, []string{"#main:x: status/fedora: Koji outage"}) {
		t.Fatalf("the config's room got %q", got)
	}

	if got := s.ask(t, "!new:x", "follow", "Blog/osbuild", "release"); !strings.Contains(got, "now follows blog/osbuild") {
		t.Fatalf("follow answered %q", got)
	}
	*f = append(*f, Item{ID: "2", Target: "blog/osbuild", Title: "Release 150", URL: "https://blog.example/150"}, Item{ID: "3", Target: "blog/osbuild", Title: "Meeting notes", URL: "https://blog.example/m"})
	s.check(t)
	if got := delivered(rec, 1); !slices.Equal(got, []string{"!new:x: blog/osbuild: Release 150"}) {
		t.Fatalf("after a room followed blog/osbuild for releases: %q", got)
	}

	// A restart reads the state and the room's choice from the database.
	s = start(t, st, f, rec)
	s.check(t)
	if n := len(rec.All()); n != 2 {
		t.Fatalf("%d announcements after a restart, want still 2", n)
	}
	if got := s.ask(t, "!new:x"); !strings.Contains(got, "blog/osbuild (its own)") {
		t.Errorf("the room's subscription was lost in the restart: %q", got)
	}

	if err := s.reg.Moved(context.Background(), "!new:x", "!newer:x"); err != nil {
		t.Fatal(err)
	}
	*f = append(*f, Item{ID: "4", Target: "blog/osbuild", Title: "Release 151", URL: "https://blog.example/151"})
	s.check(t)
	if got := delivered(rec, 2); !slices.Equal(got, []string{"!newer:x: blog/osbuild: Release 151"}) {
		t.Errorf("after the room's upgrade: %q", got)
	}
}
