package roomscope_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
)

// topic is a made-up source's filter: which topics of a feed a rule takes.
type topic struct {
	Topics []string `json:"topics"`
}

func feedSource() roomscope.Source[topic] {
	return roomscope.Source[topic]{Kind: "feed", Config: []roomscope.Rule[topic]{
		{Rooms: []string{"#main:x", "!ops:x"}, Targets: []string{"status/*"}, Filter: topic{Topics: []string{"incidents"}}},
	}}
}

// names: #main:x is !main:x, as the bot would have resolved it.
var names = roomscope.NamesFunc(func(name string, room id.RoomID) bool {
	return name == room.String() || (name == "#main:x" && room == "!main:x")
})

func open(t *testing.T, st *store.DB) (*roomscope.Registry, *roomscope.Scope[topic]) {
	t.Helper()
	reg, err := roomscope.Open(context.Background(), st, names, roomscope.Defaults{"#main:x": {"threads": "off"}, "!ops:x": {"deploys": "on"}})
	if err != nil {
		t.Fatal(err)
	}
	feed, err := roomscope.Add(context.Background(), reg, feedSource())
	if err != nil {
		t.Fatal(err)
	}
	return reg, feed
}

func rooms[F any](ms []roomscope.Match[F]) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Room)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestLayersSurviveARestart: a new source declares only its targets and
// filter; the config's rules, a room's own subscription and a mute lie
// over each other, under the names the config gives the rooms, and are
// the same after the registry is read again from the database.
func TestLayersSurviveARestart(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "scope.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, feed := open(t, st)
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, err := range []error{
		feed.Subscribe(ctx, roomscope.Choice[topic]{Room: "!main:x", Target: "Status/Fedora", Filter: topic{Topics: []string{"maintenance"}}, By: "@a:x", At: at}),
		feed.Subscribe(ctx, roomscope.Choice[topic]{Room: "!new:x", Target: "blog/osbuild", By: "@a:x", At: at}),
		feed.Mute(ctx, roomscope.Choice[topic]{Room: "!ops:x", Target: "status/fedora", By: "@b:x", At: at}),
		reg.Settings().Set(ctx, "!ops:x", "deploys", "off", "@b:x", at),
		reg.Settings().Set(ctx, "!new:x", "deploys", "on", "@a:x", at),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, reg *roomscope.Registry, feed *roomscope.Scope[topic]) {
		t.Helper()
		if got := rooms(feed.Matches("status/fedora")); !slices.Equal(got, []string{"#main:x"}) {
			t.Errorf("%s: status/fedora goes to %v; want #main:x alone (muted in !ops:x), by its config name", when, got)
		}
		if got := rooms(feed.Matches("status/centos")); !slices.Equal(got, []string{"!ops:x", "#main:x"}) {
			t.Errorf("%s: status/centos goes to %v", when, got)
		}
		if got := rooms(feed.Matches("blog/osbuild")); !slices.Equal(got, []string{"!new:x"}) {
			t.Errorf("%s: blog/osbuild goes to %v", when, got)
		}
		if got := feed.Targets(nil); !slices.Equal(got, []string{"status/fedora", "blog/osbuild"}) {
			t.Errorf("%s: concrete targets %v", when, got)
		}
		view := feed.InRoom("!ops:x")
		if !view.ConfigSends("status/fedora") || !view.Muted("status/fedora") || view.Follows("status/fedora") || !view.Follows("status/centos") {
			t.Errorf("%s: !ops:x's view disagrees with its mute: %+v", when, view)
		}
		own, ok := feed.InRoom("!main:x").OwnOf("status/fedora")
		if !ok || !slices.Equal(own.Filter.Topics, []string{"maintenance"}) || own.By != "@a:x" || !own.At.Equal(at) {
			t.Errorf("%s: !main:x's own subscription came back as %+v", when, own)
		}
		if v, _ := reg.Settings().Get("!main:x", "threads"); v != "off" {
			t.Errorf("%s: the config's threads setting for #main:x is %q in !main:x", when, v)
		}
		if got := reg.Settings().RoomsOn([]string{"!ops:x", "#main:x"}, "deploys"); !slices.Equal(got, []string{"#main:x", "!new:x"}) {
			t.Errorf("%s: deploys go to %v; want #main:x (config) and !new:x (chat), not !ops:x (off in chat)", when, got)
		}
	}
	check("before", reg, feed)
	reg, feed = open(t, st)
	check("after a restart", reg, feed)
}

// TestChoicesMoveWithTheRoom: when a room is upgraded, its own
// subscriptions, mutes and settings, of every source, belong to its
// replacement at once.
func TestChoicesMoveWithTheRoom(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "scope.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, feed := open(t, st)
	other, err := roomscope.Add(ctx, reg, roomscope.Source[struct{}]{Kind: "other"})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		feed.Subscribe(ctx, roomscope.Choice[topic]{Room: "!old:x", Target: "blog/osbuild"}),
		feed.Mute(ctx, roomscope.Choice[topic]{Room: "!old:x", Target: "status/x"}),
		other.Subscribe(ctx, roomscope.Choice[struct{}]{Room: "!old:x", Target: "list.example.org"}),
		reg.Settings().Set(ctx, "!old:x", "default_repo", "osbuild/images", "@a:x", time.Now()),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Moved(ctx, "!old:x", "!new:x"); err != nil {
		t.Fatal(err)
	}
	if got := rooms(feed.Matches("blog/osbuild")); !slices.Equal(got, []string{"!new:x"}) {
		t.Errorf("the feed goes to %v after the move", got)
	}
	if !feed.InRoom("!new:x").Muted("status/x") || len(feed.InRoom("!old:x").Mutes) != 0 {
		t.Error("the mute did not move")
	}
	if got := rooms(other.Matches("list.example.org")); !slices.Equal(got, []string{"!new:x"}) {
		t.Errorf("the other source goes to %v after the move", got)
	}
	if v, _ := reg.Settings().Get("!new:x", "default_repo"); v != "osbuild/images" {
		t.Errorf("the setting did not move: %q", v)
	}
}
