package github

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/testenv"
)

// roomStore keeps the rooms' choices: store.DB, or testenv.Choices.
type roomStore interface {
	roomscope.Store
	roomscope.Mover
}

// newSubs are the subscriptions and room settings of base and cfgRooms,
// with the rooms' choices in st; names nil: room ids only.
func newSubs(t testing.TB, base []config.Subscription, st roomStore, names roomscope.Names, cfgRooms map[string]config.GitHubRoom) (*Subscriptions, *roomscope.Settings) {
	t.Helper()
	if names == nil {
		names = roomscope.NamesFunc(func(name string, room id.RoomID) bool { return name == room.String() })
	}
	reg, err := roomscope.Open(context.Background(), st, names, Defaults(cfgRooms))
	if err != nil {
		t.Fatal(err)
	}
	subs, err := roomscope.Add(context.Background(), reg, Source(base))
	if err != nil {
		t.Fatal(err)
	}
	return subs, reg.Settings()
}

// ownChoice is a room's own subscription of repo to the default events.
func ownChoice(room id.RoomID, repo string) roomscope.Choice[Filter] {
	return roomscope.Choice[Filter]{Room: room, Target: repo, Filter: Filter{Events: config.DefaultEvents}, At: time.Now()}
}

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
	ctx := context.Background()
	r, _ := newSubs(t, []config.Subscription{{Rooms: []string{"#main:x", "!other:x"}, Repos: []string{"osbuild/*"}, Events: config.DefaultEvents}},
		&testenv.Choices{}, roomscope.NamesFunc(func(name string, room id.RoomID) bool {
			return name == room.String() || (name == "#main:x" && room == "!main:x")
		}), nil)
	for _, err := range []error{
		r.Subscribe(ctx, ownChoice("!main:x", "osbuild/images")),
		r.Subscribe(ctx, ownChoice("!main:x", "codertocat/hello-world")),
		r.Mute(ctx, roomscope.Choice[Filter]{Room: "!other:x", Target: "osbuild/osbuild"}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	route := func(repo string) []string {
		var rooms []string
		for room := range Route(r, Item{Repo: repo, Kind: KindIssue}, false) {
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
	if repos := r.Targets(nil); !slices.Contains(repos, "codertocat/hello-world") || slices.Contains(repos, "osbuild/*") {
		t.Errorf("polled repos %v", repos)
	}
	if !r.InRoom("!main:x").Follows("codertocat/hello-world") || r.InRoom("!other:x").Follows("osbuild/osbuild") || !r.InRoom("!other:x").Follows("osbuild/images") {
		t.Error("Follows disagrees with the routes")
	}
}

// TestGHAnswersGolden renders !gh's answers: a subscription, a mute, the
// room's list, a refusal of bad options.
func TestGHAnswersGolden(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	rules, settings := newSubs(t, []config.Subscription{{Rooms: []string{"!r:x"}, Repos: []string{"osbuild/*"}, Events: config.DefaultEvents,
		Labels: config.Filter{Exclude: []string{"wontfix"}}, Bots: config.BotsDigest, Drafts: config.DraftsHide}}, &testenv.Choices{}, nil, nil)
	if err := rules.Subscribe(context.Background(), roomscope.Choice[Filter]{Room: "!r:x", Target: "osbuild/image-builder", Filter: Filter{Events: config.DefaultEvents}}); err != nil {
		t.Fatal(err)
	}
	sub := &Subscriber{Subs: rules, Settings: settings, Now: func() time.Time { return now },
		Scope: Scope{Allowed: []string{"osbuild/*", "codertocat/*"}}, Lookup: fakeGitHub(map[string]bool{"osbuild/secret": true})}
	cmd := GHCommand(sub)
	for _, c := range []struct{ file, line string }{
		{"gh-subscribe.golden", `subscribe Codertocat/Hello-World pulls ci label:"good first issue" -author:dependabot[bot] drafts:show`},
		{"gh-unsubscribe-config.golden", "unsubscribe osbuild/images"},
		{"gh-mute.golden", "mute osbuild/images"},
		{"gh-subscribe-out-of-scope.golden", "subscribe someone/else"},
		{"gh-subscribe-private.golden", "subscribe osbuild/secret"},
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
		r, _ := newSubs(b, base, &testenv.Choices{}, nil, nil)
		for b.Loop() {
			Route(r, it, false)
		}
	})
	b.Run("with-room-rules", func(b *testing.B) {
		r, _ := newSubs(b, base, &testenv.Choices{}, nil, nil)
		for i := range 100 {
			ctx := context.Background()
			if err := errors.Join(r.Subscribe(ctx, ownChoice(id.RoomID(fmt.Sprintf("!own%d:x", i)), fmt.Sprintf("org%d/extra", i))),
				r.Mute(ctx, roomscope.Choice[Filter]{Room: id.RoomID(fmt.Sprintf("!room%d:x", i)), Target: fmt.Sprintf("org%d/muted", i)})); err != nil {
				b.Fatal(err)
			}
		}
		for b.Loop() {
			Route(r, it, false)
		}
	})
}

// fakeGitHub knows every repository but osbuild/image-bulder; private
// names those that are private.
func fakeGitHub(private map[string]bool) RepoLookup {
	return func(_ context.Context, repo string) (RepoFacts, error) {
		if repo == "osbuild/image-bulder" {
			return RepoFacts{}, fmt.Errorf("%w: %s", ErrNoSuchRepo, repo)
		}
		return RepoFacts{Private: private[repo]}, nil
	}
}

// ghRoom is a room with !gh, on rules and a store of choices.
type ghRoom struct {
	rules *Subscriptions
	base  []config.Subscription
	store *testenv.Choices
	cmd   bot.Command
}

func newGHRoom(t *testing.T, base []config.Subscription, scope Scope, private map[string]bool) *ghRoom {
	r := &ghRoom{base: base, store: &testenv.Choices{}}
	r.rules, _ = newSubs(t, base, r.store, nil, nil)
	r.cmd = GHCommand(&Subscriber{Subs: r.rules, Scope: scope, Lookup: fakeGitHub(private), Now: time.Now})
	return r
}

func (r *ghRoom) say(t *testing.T, line string) string {
	t.Helper()
	rep, err := r.cmd.Run(context.Background(), bot.Request{Command: "gh", Args: strings.Fields(line), Prefix: "!", Sender: "@admin:x", RoomID: "!r:x"})
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return rep.Plain
}

func (r *ghRoom) gets(repo string, kind Kind) bool {
	_, ok := Route(r.rules, Item{Repo: repo, Kind: kind}, false)["!r:x"]
	return ok
}

// TestUnsubscribeTakesBackOnlyTheRoomsOwn: after subscribing to CI of a
// repository the config already sends, unsubscribing takes back the CI
// only; the config's issues keep coming, and muting them is its own,
// explicit step, which leaves the room's own subscription alone.
func TestUnsubscribeTakesBackOnlyTheRoomsOwn(t *testing.T) {
	r := newGHRoom(t, []config.Subscription{{Rooms: []string{"!r:x"}, Repos: []string{"osbuild/images"}, Events: config.DefaultEvents}},
		Scope{Allowed: []string{"osbuild/*"}}, nil)
	r.say(t, "subscribe osbuild/images ci")
	if !r.gets("osbuild/images", KindCI) || !r.gets("osbuild/images", KindIssue) {
		t.Fatal("the room's CI subscription or the config's issues do not reach it")
	}
	answer := r.say(t, "unsubscribe osbuild/images")
	if r.gets("osbuild/images", KindCI) || !r.gets("osbuild/images", KindIssue) {
		t.Errorf("after unsubscribing (%q): CI %v, issues %v; want no CI, the config's issues still", answer,
			r.gets("osbuild/images", KindCI), r.gets("osbuild/images", KindIssue))
	}
	if answer = r.say(t, "unsubscribe osbuild/images"); !strings.Contains(answer, "comes to this room from the operator's config") ||
		!strings.Contains(answer, "!gh mute osbuild/images") || !r.gets("osbuild/images", KindIssue) {
		t.Errorf("unsubscribing what only the config sends: %q", answer)
	}

	r.say(t, "subscribe osbuild/images ci pulls")
	if answer = r.say(t, "unsubscribe osbuild/images ci"); !strings.Contains(answer, "still gets pulls") || r.gets("osbuild/images", KindCI) {
		t.Errorf("unsubscribing one event: %q", answer)
	}
	r.say(t, "subscribe osbuild/images ci")
	if answer = r.say(t, "mute osbuild/images"); !strings.Contains(answer, "muted osbuild/images") || r.gets("osbuild/images", KindIssue) {
		t.Errorf("muting: %q; issues still come: %v", answer, r.gets("osbuild/images", KindIssue))
	}
	if !r.gets("osbuild/images", KindCI) {
		t.Error("the mute silenced the room's own CI subscription")
	}
	rules, _ := newSubs(t, r.base, r.store, nil, nil)
	if view := rules.InRoom("!r:x"); len(view.Mutes) != 1 || len(view.Own) != 1 {
		t.Errorf("after a restart: %d mutes and %d own subscriptions, want 1 and 1", len(view.Mutes), len(view.Own))
	}
	if answer = r.say(t, "unmute osbuild/images"); !r.gets("osbuild/images", KindIssue) {
		t.Errorf("unmuting: %q; issues do not come back", answer)
	}
}

// TestChatStaysInScope: a room admin can subscribe only to repositories
// the operator allows, and to a private one only if the config names it.
func TestChatStaysInScope(t *testing.T) {
	r := newGHRoom(t, nil, Scope{Allowed: []string{"osbuild/*"}, Named: []string{"osbuild/named-private"}},
		map[string]bool{"osbuild/secret": true, "osbuild/named-private": true})
	for line, want := range map[string]string{
		"subscribe someone/else":           "not one of them",
		"subscribe osbuild/secret":         "osbuild/secret is private",
		"subscribe osbuild/named-private":  "subscribed this room to issues, pulls, releases of osbuild/named-private",
		"subscribe osbuild/osbuild issues": "subscribed this room to issues of osbuild/osbuild",
	} {
		if got := r.say(t, line); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q in it", line, got, want)
		}
	}
	if r.gets("osbuild/secret", KindIssue) || r.gets("someone/else", KindIssue) || !r.gets("osbuild/named-private", KindIssue) {
		t.Error("routes disagree with the answers")
	}
}
