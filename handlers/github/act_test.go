package github

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestActingAsYourself: the device flow's every answer (pending, slow
// down, denied, expired, approved), then each action as the person and
// each refusal, against the fake GitHub's state; the token is stored
// only encrypted. The answers are a golden transcript.
func TestActingAsYourself(t *testing.T) {
	ctx := context.Background()
	fake := testenv.NewGitHubPeople("Iv1.unit", map[string][]string{"alice-gh": {"osbuild/images"}})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sealer, err := NewSealer("unit-test-key")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	people := &People{ClientID: "Iv1.unit", ClientSecret: "s", Scopes: []string{"public_repo"}, WebURL: srv.URL, APIURL: srv.URL, HTTP: srv.Client(),
		Store: st, Sealer: sealer, Log: zerolog.Nop(), Now: clock}
	rec := &testenv.Recorder{}
	logins := &Logins{People: people, Poster: rec}
	acting := &Acting{People: people, Scope: Scope{Allowed: []string{"osbuild/*"}}, Own: st}
	var transcript strings.Builder
	n := 0
	say := func(who, room string, direct bool, line string) string {
		t.Helper()
		n++
		args := strings.Fields(strings.TrimPrefix(line, "!gh "))
		req := bot.Request{Command: "gh", Args: args, Body: line, Prefix: "!", Sender: id.UserID(who), RoomID: id.RoomID(room),
			EventID: id.EventID(fmt.Sprintf("$e%d", n)), Direct: direct}
		rep, err := (&Subscriber{Acting: acting}).run(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&transcript, "%s: %s\nibbot: %s\n\n", who, line, rep.Plain)
		return rep.Plain
	}
	step := func(after time.Duration) []string {
		t.Helper()
		before := len(rec.All())
		now = now.Add(after)
		if err := logins.Step(ctx); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range rec.All()[before:] {
			out = append(out, s.Plain)
			fmt.Fprintf(&transcript, "(the login's outcome, in %s) ibbot: %s\n\n", s.Room, s.Plain)
		}
		return out
	}
	say("@alice:x", "!room:x", false, "!gh login")
	say("@alice:x", "!dm-alice:x", true, "!gh login")
	say("@bo:x", "!dm-bo:x", true, "!gh login")
	say("@cy:x", "!dm-cy:x", true, "!gh login")
	if got := step(5 * time.Second); len(got) != 0 {
		t.Fatalf("outcomes before anyone entered a code: %q", got)
	}
	fake.SlowDown(1)
	codes := fake.UserCodes()
	for _, c := range codes {
		switch c[len(c)-1] {
		case '1':
			fake.Approve(c, "alice-gh")
		case '2':
			fake.Deny(c)
		}
	}
	got := step(5 * time.Second) // the first poll is told to slow down
	got = append(got, step(10*time.Second)...)
	if strings.Join(got, "|") != "✓ Logged in: I act on GitHub as alice-gh for you (!gh whoami; !gh logout forgets it).|You declined the login on GitHub; nothing was stored." &&
		strings.Join(got, "|") != "You declined the login on GitHub; nothing was stored.|✓ Logged in: I act on GitHub as alice-gh for you (!gh whoami; !gh logout forgets it)." {
		t.Errorf("outcomes: %q", got)
	}
	if got := step(20 * time.Minute); len(got) != 1 || !strings.HasPrefix(got[0], "The GitHub login code expired") {
		t.Errorf("the code never entered: %q", got)
	}
	if p, _, _ := st.Person(ctx, "@alice:x"); p.Login != "alice-gh" || strings.Contains(p.TokenEnc, "gho_") {
		t.Errorf("the stored person %+v", p)
	}

	for _, c := range [][2]string{
		{"!gh whoami", "You act on GitHub as alice-gh"},
		{"!gh comment osbuild/images#12 Looks good to me.\nOne nit below.", "💬 alice-gh commented on osbuild/images#12"},
		{`!gh label osbuild/images#12 +"good first issue" +bug`, "🏷 alice-gh labelled osbuild/images#12 (https://github.com/osbuild/images/issues/12): +good first issue +bug."},
		{"!gh label osbuild/images#12 -bug", "🏷 alice-gh labelled osbuild/images#12 (https://github.com/osbuild/images/issues/12): −bug."},
		{"!gh close osbuild/images#12 completed", "alice-gh closed osbuild/images#12"},
		{"!gh close osbuild/images#12 because", "usage: !gh close [REF] [completed|not_planned]"},
		{"!gh reopen osbuild/images#12", "alice-gh reopened osbuild/images#12"},
		{"!gh assign osbuild/images#12 @alice-gh @bo-gh", "alice-gh assigned alice-gh, bo-gh to osbuild/images#12"},
		{"!gh issue osbuild/images Add a Fedora 43 image\nThe body, on the next lines.", "alice-gh opened osbuild/images#501"},
		{"!gh comment osbuild/osbuild#1 hi", "Not done (commenting on osbuild/osbuild#1): your GitHub account may not do that there (no permission)."},
		{"!gh comment other/repo#1 hi", "Not done: other/repo is not among the repositories this bot may act on"},
		{"!gh comment #12 hi", "usage: !gh comment [REF] TEXT"},
	} {
		if got := say("@alice:x", "!room:x", false, c[0]); !strings.HasPrefix(got, c[1]) {
			t.Errorf("%s: %q, want %q…", c[0], got, c[1])
		}
	}
	is, _ := fake.Issue("osbuild/images#12")
	if len(is.Comments) != 1 || is.Comments[0].Body != "Looks good to me.\nOne nit below." || strings.Join(is.Labels, ",") != "good first issue" ||
		is.State != "open" || strings.Join(is.Assignees, ",") != "alice-gh,bo-gh" {
		t.Errorf("the fake's issue: %+v", is)
	}
	if _, own, _ := st.Get(ctx, OwnCommentKey(is.Comments[0].ID)); !own {
		t.Error("the comment made from chat is not marked, so the relay would echo it")
	}
	say("@bo:x", "!room:x", false, "!gh comment osbuild/images#12 hi")
	fake.Revoke("alice-gh")
	say("@alice:x", "!room:x", false, "!gh reopen osbuild/images#12")
	say("@alice:x", "!room:x", false, "!gh whoami")
	golden.Check(t, "acting-as-yourself.golden", transcript.String())
}
