package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestTheReviewQueueInTheRoom: through Dendrite and signed webhooks, a
// first-time contributor's pull request is called out when it opens; an
// outside pull request open for three days without a review is in the
// digest at the configured time and in !reviews; a maintainer's comment
// takes it out.
func TestTheReviewQueueInTheRoom(t *testing.T) {
	s := newStack(t)
	port := freeTCPPort(t)
	cfg := githubConfig(s, port, s.room)
	cfg.GitHub.PollInterval = 0
	// The digest is due 30 to 60 seconds from now: the deliveries come
	// before it.
	at := time.Now().UTC().Add(90 * time.Second).Truncate(time.Minute)
	cfg.GitHub.Reviews = config.Reviews{Rooms: []string{s.room.String()}, DigestAt: at.Format("15:04"), Timezone: "UTC",
		Weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}, Wait: 48 * time.Hour}
	startBot(t, cfg)
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)

	first := delivery(t, "pull_request.opened.payload.json", func(o map[string]any) {
		numbered(201, "Add a Fedora 43 image type")(o)
		o["author_association"] = "FIRST_TIME_CONTRIBUTOR"
	})
	postDelivery(t, hook, "pull_request", "d-201", first, sign(first))
	s.human.MustWait(t, wait, "the first contribution called out", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "🎉 First contribution by Codertocat to Codertocat/Hello-World")
	})
	old := delivery(t, "pull_request.opened.payload.json", func(o map[string]any) {
		numbered(202, "Fix the blueprint docs")(o)
		o["author_association"] = "CONTRIBUTOR"
		o["created_at"] = time.Now().Add(-72 * time.Hour).UTC().Format(time.RFC3339)
	})
	postDelivery(t, hook, "pull_request", "d-202", old, sign(old))
	digest := s.human.MustWait(t, time.Until(at)+wait, "the digest", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "👀 1 pull request from outside the team has waited more than 2 days")
	})
	if body := testenv.Body(digest); !strings.Contains(body, "Codertocat/Hello-World#202") || strings.Contains(body, "#201") {
		t.Errorf("the digest: %q", body)
	}
	ask := s.human.MustSay(t, s.room, "!reviews")
	if got := testenv.Body(s.human.MustWait(t, wait, "!reviews", testenv.ReplyTo(ask))); !strings.Contains(got, "#202") {
		t.Errorf("!reviews: %q", got)
	}
	comment := testenv.InRepo(delivery(t, "issue_comment.created.on-pr.go-playground.json", func(o map[string]any) {
		o["number"] = 202
		o["user"].(map[string]any)["login"] = "Codertocat"
	}), "Codertocat/Hello-World")
	comment = byMaintainer(t, comment)
	postDelivery(t, hook, "issue_comment", "d-202-c", comment, sign(comment))
	deadline := time.Now().Add(wait)
	for {
		ask := s.human.MustSay(t, s.room, "!reviews")
		got := testenv.Body(s.human.MustWait(t, wait, "!reviews", testenv.ReplyTo(ask)))
		if strings.HasPrefix(got, "✓ No outside pull request has waited more than 2 days") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a maintainer's comment, !reviews still says %q", got)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// byMaintainer makes a comment delivery's author a member of the
// organisation.
func byMaintainer(t *testing.T, body []byte) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["comment"].(map[string]any)["author_association"] = "MEMBER"
	out, _ := json.Marshal(m)
	return out
}

// TestTheDigestAcrossDST: the bot runs on a clock set to the Monday after
// Prague's summer time ended, ten seconds before 09:30 there (08:30 UTC;
// it was 07:30 UTC the week before). The digest waits for 09:30 local
// time, not the summer's hour, and comes then.
func TestTheDigestAcrossDST(t *testing.T) {
	s := newStack(t)
	port := freeTCPPort(t)
	cfg := githubConfig(s, port, s.room)
	cfg.GitHub.PollInterval = 0
	cfg.GitHub.Reviews = config.Reviews{Rooms: []string{s.room.String()}, DigestAt: "09:30", Timezone: "Europe/Prague",
		Weekdays: []string{"Mon", "Tue", "Wed", "Thu", "Fri"}, Wait: 48 * time.Hour}
	base, started := time.Date(2026, 10, 26, 8, 29, 50, 0, time.UTC), time.Now()
	clock := func() time.Time { return base.Add(time.Since(started)) }
	ready := make(chan *bot.Bot, 1)
	startBotOpts(t, cfg, app.Options{Now: clock, Started: func(b *bot.Bot) { ready <- b }}, ready)
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	old := delivery(t, "pull_request.opened.payload.json", func(o map[string]any) {
		numbered(203, "Fix the s390x build")(o)
		o["author_association"] = "NONE"
		o["created_at"] = base.Add(-72 * time.Hour).Format(time.RFC3339)
	})
	postDelivery(t, hook, "pull_request", "d-203", old, sign(old))
	digest := s.human.MustWait(t, wait, "the digest", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "👀 1 pull request from outside the team")
	})
	if at := clock().Add(-time.Since(time.UnixMilli(digest.Timestamp))); at.Before(time.Date(2026, 10, 26, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("the digest came at %s UTC, before 09:30 in Prague", at.Format("15:04:05"))
	}
}
