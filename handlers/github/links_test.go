package github

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/testenv"
)

func newLinks(t *testing.T) (*Links, *testenv.GitHub, *time.Time) {
	fake := testenv.NewGitHub()
	t.Cleanup(fake.Close)
	fake.SetIssues("Codertocat/Hello-World", issueJSON(t, 7, time.Now(), nil))
	gh, _ := ghclient.New(ghclient.Options{BaseURL: fake.URL})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	subs, settings := newSubs(t, []config.Subscription{
		{Rooms: []string{"!follows:x"}, Repos: []string{"Codertocat/*"}, Events: config.DefaultEvents},
		{Rooms: []string{"!other:x"}, Repos: []string{"someone/else"}, Events: config.DefaultEvents},
	}, &testenv.Choices{}, nil, map[string]config.GitHubRoom{"!default:x": {DefaultRepo: "Codertocat/Hello-World"}})
	l := &Links{GitHub: gh, Allowed: []string{"osbuild/*"}, Cooldown: 10 * time.Minute, Now: func() time.Time { return now },
		Subs: subs, Settings: settings}
	return l, fake, &now
}

// TestLinksOnlyForReposTheRoomFollows: a preview or !issue answer reads a
// repository only if this room follows it, has it as default, or the
// operator allows it everywhere.
func TestLinksOnlyForReposTheRoomFollows(t *testing.T) {
	l, fake, _ := newLinks(t)
	for room, want := range map[id.RoomID]bool{"!follows:x": true, "!default:x": true, "!other:x": false, "!unknown:x": false} {
		if got := l.Match(bot.Message{RoomID: room, Body: "look at Codertocat/Hello-World#7"}); got != want {
			t.Errorf("preview in %s: %v, want %v", room, got, want)
		}
	}
	if !l.MayRead("!other:x", "osbuild/osbuild-composer") {
		t.Error("github.link_repos does not allow a repository everywhere")
	}
	cmd := IssueCommand(l.GitHub, l)
	before := len(fake.Requests())
	rep, err := cmd.Run(context.Background(), bot.Request{RoomID: "!other:x", Prefix: "!", Args: []string{"Codertocat/Hello-World#7"}})
	if err != nil || !strings.Contains(rep.Plain, "only of the repositories this room follows") {
		t.Errorf("!issue for a repo the room does not follow: %q, %v", rep.Plain, err)
	}
	if len(fake.Requests()) != before {
		t.Error("!issue asked GitHub about a repository the room does not follow")
	}
	rep, err = cmd.Run(context.Background(), bot.Request{RoomID: "!default:x", Prefix: "!", Args: []string{"#7"}})
	if err != nil || !strings.Contains(rep.Plain, "Codertocat/Hello-World#7") {
		t.Errorf("!issue #7 with a default repo: %q, %v", rep.Plain, err)
	}
}

// TestRepoNamesAreValidated: path tricks never reach a GitHub API path.
func TestRepoNamesAreValidated(t *testing.T) {
	for _, text := range []string{"osbuild/..#1", "../..#2", "a/.#3", "osbuild/osbuild%2f..#4"} {
		if refs := ParseRefs(" "+text, ""); len(refs) != 0 {
			t.Errorf("ParseRefs(%q) = %+v, want none", text, refs)
		}
	}
	l, fake, _ := newLinks(t)
	l.Allowed = []string{"*/*"}
	cmd := IssueCommand(l.GitHub, l)
	before := len(fake.Requests())
	rep, _ := cmd.Run(context.Background(), bot.Request{RoomID: "!follows:x", Prefix: "!", Args: []string{"osbuild/..#1"}})
	if !strings.Contains(rep.Plain, "is not an issue reference") || len(fake.Requests()) != before {
		t.Errorf("!issue osbuild/..#1: %q (GitHub asked %d times)", rep.Plain, len(fake.Requests())-before)
	}
}

// TestPreviewCooldownForgets: the memory of previews holds only what was
// previewed within the cooldown.
func TestPreviewCooldownForgets(t *testing.T) {
	l, _, now := newLinks(t)
	l.Allowed = []string{"*/*"}
	for i := range 500 {
		l.fresh("!follows:x", []Ref{{Repo: "a/b", Number: i + 1}})
		*now = now.Add(time.Second)
	}
	// 500 seconds: about 8 minutes are within the 10 minute cooldown.
	*now = now.Add(10 * time.Minute)
	l.fresh("!follows:x", []Ref{{Repo: "a/b", Number: 9999}})
	if n := l.remembered(); n != 1 {
		t.Errorf("%d previews remembered after the cooldown passed, want 1", n)
	}
	if got := l.fresh("!follows:x", []Ref{{Repo: "a/b", Number: 9999}}); len(got) != 0 {
		t.Error("the same item was previewed again within the cooldown")
	}
}

// TestParseRefsReadsIssueURLs: a pasted issue or pull request address is
// a reference like owner/repo#N, in the order it appears, once.
func TestParseRefsReadsIssueURLs(t *testing.T) {
	got := ParseRefs("see https://github.com/osbuild/osbuild-composer/pull/4512/files and #3, "+
		"then https://github.com/osbuild/images/issues/77#issuecomment-1 and osbuild/images#77 "+
		"(not https://github.com/osbuild/images/actions/runs/5 nor https://gitlab.com/a/b/issues/1)", "osbuild/osbuild")
	want := []Ref{{"osbuild/osbuild-composer", 4512}, {"osbuild/osbuild", 3}, {"osbuild/images", 77}}
	if len(got) != len(want) {
		t.Fatalf("refs %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("ref %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
