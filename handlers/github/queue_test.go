package github

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/fixtures"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// delivery is a recorded webhook payload with the fields a test sets
// (paths like "pull_request.number") replaced.
func delivery(t *testing.T, fixture string, set map[string]any) Change {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(fixtures.Read("github/webhooks/"+fixture), &doc); err != nil {
		t.Fatal(err)
	}
	for path, v := range set {
		parts := strings.Split(path, ".")
		m := doc
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		m[parts[len(parts)-1]] = v
	}
	raw, _ := json.Marshal(doc)
	event, _, _ := strings.Cut(fixture, ".")
	c, ok, err := FromWebhook(event, raw)
	if err != nil || !ok {
		t.Fatalf("%s: %v %v", fixture, ok, err)
	}
	return c
}

func pr(number int, assoc string, opened time.Time, extra map[string]any) map[string]any {
	set := map[string]any{"pull_request.number": number, "pull_request.author_association": assoc,
		"pull_request.created_at": opened.Format(time.RFC3339), "pull_request.state": "open", "pull_request.draft": false,
		"pull_request.title": "Change " + strings.Repeat("x", number%3), "pull_request.additions": 10 * number, "pull_request.deletions": number,
		"pull_request.head.sha": "sha" + strings.Repeat("0", number), "pull_request.html_url": fmt.Sprintf("https://github.com/Codertocat/Hello-World/pull/%d", number)}
	for k, v := range extra {
		set[k] = v
	}
	return set
}

// TestTheReviewQueue: outside pull requests are kept from the deliveries,
// a first contribution is called out once, a review or a maintainer's
// comment ends the wait, the digest goes out at 09:30 Prague time (on
// both sides of the change from summer time) on weekdays only, once a
// day and not when nothing waits; !reviews and the figures agree.
func TestTheReviewQueue(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 10, 19, 8, 0, 0, 0, time.UTC) // Monday, 10:00 in Prague (summer time)
	rec := &testenv.Recorder{}
	q := &Queue{Store: st, Poster: rec, Log: zerolog.Nop(), Now: func() time.Time { return now },
		Config: config.Reviews{Rooms: []string{"!r:x"}, DigestAt: "09:30", Timezone: "Europe/Prague", Weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Wait: 48 * time.Hour}}
	observe := func(c Change) {
		t.Helper()
		if err := q.Observe(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	opened := now.Add(-time.Hour)
	first := delivery(t, "pull_request.opened.payload.json", pr(1, "FIRST_TIME_CONTRIBUTOR", opened, nil))
	observe(first)
	observe(first) // redelivered
	observe(delivery(t, "pull_request.opened.payload.json", pr(2, "MEMBER", opened, nil)))
	observe(delivery(t, "pull_request.opened.payload.json", pr(3, "CONTRIBUTOR", opened, map[string]any{"pull_request.requested_reviewers": []any{map[string]any{"login": "ondrej", "id": 9}}})))
	observe(delivery(t, "pull_request.opened.payload.json", pr(4, "NONE", opened, nil)))
	observe(delivery(t, "pull_request.opened.payload.json", pr(5, "NONE", opened, map[string]any{"pull_request.draft": true})))
	if sent := rec.All(); len(sent) != 1 || !strings.HasPrefix(sent[0].Plain, "🎉 First contribution by Codertocat to Codertocat/Hello-World") {
		t.Fatalf("posted %+v", sent)
	}
	golden.Check(t, "review-first-contribution.golden", rec.All()[0].Plain+"\n")

	now = now.Add(5 * time.Hour)
	review := delivery(t, "pull_request_review.submitted.payload.json", map[string]any{"pull_request.number": 3, "review.user.login": "ondrej"})
	observe(review)
	comment := delivery(t, "issue_comment.created.on-pr.go-playground.json", map[string]any{"issue.number": 4, "issue.user.login": "Codertocat",
		"comment.author_association": "CONTRIBUTOR", "repository.full_name": "Codertocat/Hello-World"})
	observe(comment) // not a maintainer: still waiting
	observe(Change{CI: &CIRun{SHA: "sha0", Conclusion: "success"}})
	observe(Change{CI: &CIRun{SHA: "sha0000", Conclusion: "failure"}})

	tick := func(at time.Time) []testenv.Sent {
		t.Helper()
		before := len(rec.All())
		now = at
		if err := q.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		return rec.All()[before:]
	}
	if got := tick(time.Date(2026, 10, 20, 7, 29, 0, 0, time.UTC)); len(got) != 0 { // 09:29 Prague
		t.Errorf("before 09:30: %+v", got)
	}
	if got := tick(time.Date(2026, 10, 20, 7, 30, 0, 0, time.UTC)); len(got) != 0 { // nothing has waited 48 hours yet
		t.Errorf("with nothing waiting long enough: %+v", got)
	}
	got := tick(time.Date(2026, 10, 23, 7, 30, 0, 0, time.UTC)) // Friday 09:30 summer time
	if len(got) != 1 || !strings.Contains(got[0].Plain, "2 pull requests from outside the team have waited") ||
		!strings.Contains(got[0].Plain, "Codertocat/Hello-World#1") || !strings.Contains(got[0].Plain, "Codertocat/Hello-World#4") ||
		strings.Contains(got[0].Plain, "#3") || strings.Contains(got[0].Plain, "#5") || strings.Contains(got[0].Plain, "#2") {
		t.Fatalf("Friday's digest: %+v", got)
	}
	golden.Check(t, "review-digest.golden", got[0].Plain+"\n")
	if again := tick(time.Date(2026, 10, 23, 9, 0, 0, 0, time.UTC)); len(again) != 0 {
		t.Errorf("a second digest the same day: %+v", again)
	}
	if sat := tick(time.Date(2026, 10, 24, 8, 0, 0, 0, time.UTC)); len(sat) != 0 {
		t.Errorf("a digest on Saturday: %+v", sat)
	}
	// Summer time ended on Sunday: 09:30 in Prague is 08:30 UTC now.
	if early := tick(time.Date(2026, 10, 26, 7, 30, 0, 0, time.UTC)); len(early) != 0 {
		t.Errorf("Monday at 07:30 UTC (08:30 in Prague): %+v", early)
	}
	if mon := tick(time.Date(2026, 10, 26, 8, 30, 0, 0, time.UTC)); len(mon) != 1 {
		t.Errorf("Monday at 08:30 UTC (09:30 in Prague): %+v", mon)
	}

	maintainer := delivery(t, "issue_comment.created.on-pr.go-playground.json", map[string]any{"issue.number": 1, "issue.user.login": "Codertocat",
		"comment.author_association": "MEMBER", "repository.full_name": "Codertocat/Hello-World"})
	observe(maintainer)
	rep, err := q.Command().Run(ctx, bot.Request{Command: "reviews"})
	if err != nil || !strings.HasPrefix(rep.Plain, "👀 1 pull request from outside the team has waited") || !strings.Contains(rep.Plain, "#4") {
		t.Errorf("!reviews: %q %v", rep.Plain, err)
	}
	figs, err := q.Figures(ctx)
	if err != nil || len(figs) != 1 || figs[0].Reviews != 2 || figs[0].Waiting != 1 {
		t.Fatalf("figures %+v %v", figs, err)
	}
	if want := (5*time.Hour + time.Hour + (7*24*time.Hour + 30*time.Minute + time.Hour)) / 2; figs[0].Median != want {
		t.Errorf("median %s, want %s", figs[0].Median, want)
	}
}

// TestEachRoomsDigestIsItsOwn: with no github.reviews.repos, a room's
// digest lists the repositories whose pull requests it follows, and a
// room following none of the waiting ones gets no message.
func TestEachRoomsDigestIsItsOwn(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	subs, _ := newSubs(t, []config.Subscription{
		{Rooms: []string{"!hello:x"}, Repos: []string{"Codertocat/Hello-World"}, Events: config.DefaultEvents},
		{Rooms: []string{"!other:x"}, Repos: []string{"osbuild/images"}, Events: config.DefaultEvents},
	}, st, nil, nil)
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC) // a Monday, 09:00 UTC
	rec := &testenv.Recorder{}
	q := &Queue{Store: st, Poster: rec, Subs: subs, Log: zerolog.Nop(), Now: func() time.Time { return now },
		Config: config.Reviews{Rooms: []string{"!hello:x", "!other:x"}, DigestAt: "09:00", Timezone: "UTC", Wait: 48 * time.Hour}}
	if err := q.Observe(ctx, delivery(t, "pull_request.opened.payload.json", pr(7, "NONE", now.Add(-72*time.Hour), nil))); err != nil {
		t.Fatal(err)
	}
	if err := q.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := rec.All(); len(sent) != 1 || sent[0].Room != "!hello:x" {
		t.Errorf("digests %+v; want one, in the room following Codertocat/Hello-World", sent)
	}
}
