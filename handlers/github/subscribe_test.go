package github

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/roomsettings"
	"github.com/osbuild/ibbot/internal/testenv"
)

func TestParseSubscribe(t *testing.T) {
	repo, sp, err := ParseSubscribe(strings.Fields(`osbuild/Images pulls comments label:bug -label:"wont fix" author:achilleas-k -author:dependabot[bot] bots:hide drafts:show`))
	if err != nil {
		t.Fatal(err)
	}
	if repo != "osbuild/images" || !slices.Equal(sp.Events, []config.Event{config.EventPulls, config.EventComments}) ||
		!slices.Equal(sp.Labels.Include, []string{"bug"}) || !slices.Equal(sp.Labels.Exclude, []string{"wont fix"}) ||
		!slices.Equal(sp.Authors.Include, []string{"achilleas-k"}) || !slices.Equal(sp.Authors.Exclude, []string{"dependabot[bot]"}) ||
		sp.Bots != config.BotsHide || sp.Drafts != config.DraftsShow {
		t.Errorf("parsed %s %+v", repo, sp)
	}
	if _, sp, _ := ParseSubscribe([]string{"a/b"}); !slices.Equal(sp.Events, config.DefaultEvents) || sp.Bots != config.BotsDigest || sp.Drafts != config.DraftsHide {
		t.Errorf("defaults: %+v", sp)
	}
	// Every problem at once, nothing applied.
	_, _, err = ParseSubscribe(strings.Fields("osbuild/* isues lable:x bots:maybe drafts: -label:"))
	for _, want := range []string{`"osbuild/*" is not a repository`, `"isues" is not an option; did you mean "issues"?`,
		`did you mean "label:"?`, "bots:show, bots:digest or bots:hide", `"drafts:" needs a value`, `"-label:" needs a value`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func FuzzParseSubscribe(f *testing.F) {
	for _, s := range []string{"osbuild/images pulls label:bug", `a/b label:"x y" -author:z bots:show`, `"`, "a/b :", "https://github.com/a/b/ drafts:hide"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		repo, sp, err := ParseSubscribe(strings.Fields(text))
		if err != nil {
			return
		}
		if !config.ValidRepo(repo, false) || len(sp.Events) == 0 || repo != strings.ToLower(repo) {
			t.Fatalf("accepted %q as %q %+v", text, repo, sp)
		}
	})
}

// TestRoomRulesLayOverTheConfig: a room's own subscription adds to the
// config's, a room reached both ways gets an item once, and a mute takes
// out one repository of a config glob in that room only.
func TestRoomRulesLayOverTheConfig(t *testing.T) {
	r := NewRules([]config.Subscription{{Rooms: []string{"#main:x", "!other:x"}, Repos: []string{"osbuild/*"}, Events: config.DefaultEvents}})
	r.SetRoomNames(func(name string, room id.RoomID) bool {
		return name == room.String() || (name == "#main:x" && room == "!main:x")
	})
	r.SetRoomRules([]RoomRule{
		{Room: "!main:x", Repo: "osbuild/images", Sub: config.Subscription{Repos: []string{"osbuild/images"}, Events: config.DefaultEvents}, At: time.Now()},
		{Room: "!main:x", Repo: "codertocat/hello-world", Sub: config.Subscription{Repos: []string{"codertocat/hello-world"}, Events: config.DefaultEvents}},
		{Room: "!other:x", Repo: "osbuild/osbuild", Muted: true},
	})
	route := func(repo string) []string {
		var rooms []string
		for room := range r.Route(Item{Repo: repo, Kind: KindIssue}, false) {
			rooms = append(rooms, room)
		}
		slices.Sort(rooms)
		return rooms
	}
	for repo, want := range map[string][]string{
		"osbuild/images":         {"!other:x", "#main:x"}, // the main room once, by its config name
		"osbuild/osbuild":        {"#main:x"},             // muted in the other room
		"Codertocat/Hello-World": {"!main:x"},
		"someone/else":           nil,
	} {
		if got := route(repo); !slices.Equal(got, want) {
			t.Errorf("%s goes to %v, want %v", repo, got, want)
		}
	}
	if repos := r.Repos(); !slices.Contains(repos, "codertocat/hello-world") || slices.Contains(repos, "osbuild/*") {
		t.Errorf("polled repos %v", repos)
	}
	if !r.Follows("!main:x", "codertocat/hello-world") || r.Follows("!other:x", "osbuild/osbuild") || !r.Follows("!other:x", "osbuild/images") {
		t.Error("Follows disagrees with the routes")
	}
}

// TestGHAnswersGolden renders !gh's answers: a subscription, a mute, the
// room's list, a refusal of bad options.
func TestGHAnswersGolden(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	rules := NewRules([]config.Subscription{{Rooms: []string{"!r:x"}, Repos: []string{"osbuild/*"}, Events: config.DefaultEvents,
		Labels: config.Filter{Exclude: []string{"wontfix"}}, Bots: config.BotsDigest, Drafts: config.DraftsHide}})
	settings, err := roomsettings.Load(context.Background(), &testenv.Choices{})
	if err != nil {
		t.Fatal(err)
	}
	rules.Choose("!r:x", "osbuild/image-builder", &RoomRule{Room: "!r:x", Repo: "osbuild/image-builder",
		Sub: config.Subscription{Repos: []string{"osbuild/image-builder"}, Events: config.DefaultEvents}})
	sub := &Subscriber{Rules: rules, Store: &testenv.Choices{}, Settings: settings, Now: func() time.Time { return now },
		Exists: func(_ context.Context, repo string) error {
			if repo == "osbuild/image-bulder" {
				return fmt.Errorf("%w: %s", ErrNoSuchRepo, repo)
			}
			return nil
		}}
	cmd := GHCommand(sub)
	for _, c := range []struct{ file, line string }{
		{"gh-subscribe.golden", `subscribe Codertocat/Hello-World pulls ci label:"good first issue" -author:dependabot[bot] drafts:show`},
		{"gh-unsubscribe-mute.golden", "unsubscribe osbuild/images"},
		{"gh-subscriptions.golden", "subscriptions"},
		{"gh-subscribe-typos.golden", "subscribe osbuild/osbuild isues lable:x bots:maybe"},
		{"gh-subscribe-unknown-repo.golden", "subscribe osbuild/image-bulder"},
		{"gh-settings-threads.golden", "settings threads off"},
		{"gh-default-repo.golden", "default-repo osbuild/images"},
	} {
		rep, err := cmd.Run(context.Background(), bot.Request{Command: "gh", Args: strings.Fields(c.line), Prefix: "!",
			Sender: "@alice:x", RoomID: "!r:x"})
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		golden.Check(t, c.file, "plain:\n"+rep.Plain+"\n\nhtml:\n"+rep.HTML+"\n")
	}
}

// BenchmarkRoute measures routing an item through 100 config rules, alone
// and with 100 rooms' own rules and mutes laid over them (the cost of
// chat subscriptions per delivery).
// Run: go test ./handlers/github -run '^$' -bench Route
func BenchmarkRoute(b *testing.B) {
	var base []config.Subscription
	for i := range 100 {
		base = append(base, config.Subscription{Rooms: []string{fmt.Sprintf("!room%d:x", i)}, Repos: []string{fmt.Sprintf("org%d/*", i)},
			Events: config.DefaultEvents, Bots: config.BotsDigest, Drafts: config.DraftsHide})
	}
	it := Item{Repo: "org42/repo", Kind: KindIssue, Author: "someone"}
	b.Run("config-only", func(b *testing.B) {
		r := NewRules(base)
		for b.Loop() {
			r.Route(it, false)
		}
	})
	b.Run("with-room-rules", func(b *testing.B) {
		r := NewRules(base)
		var rooms []RoomRule
		for i := range 100 {
			repo := fmt.Sprintf("org%d/extra", i)
			rooms = append(rooms, RoomRule{Room: id.RoomID(fmt.Sprintf("!own%d:x", i)), Repo: repo,
				Sub: config.Subscription{Repos: []string{repo}, Events: config.DefaultEvents}},
				RoomRule{Room: id.RoomID(fmt.Sprintf("!room%d:x", i)), Repo: fmt.Sprintf("org%d/muted", i), Muted: true})
		}
		r.SetRoomRules(rooms)
		for b.Loop() {
			r.Route(it, false)
		}
	})
}
