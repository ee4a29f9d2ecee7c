package e2e

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/app"
	"github.com/osbuild/ibbot/internal/testenv"
)

// clock is a time the test moves forward by days.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) toDay(start time.Time, day int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = start.Add(time.Duration(day) * 24 * time.Hour)
}

// TestNinetyDays drives the bot through 90 days on an injected clock, with
// the outbox pruned on its 7-day schedule throughout: a pull request
// opened on day 0, labelled on day 3 and merged on day 40; a mail thread
// with replies on days 0, 12 and 35; deploys A → B → A. Every edit edits
// the original message, every reply lands in its thread, every deploy is
// announced once.
func TestNinetyDays(t *testing.T) {
	for _, mode := range []config.Replies{config.RepliesThread, config.RepliesCount} {
		t.Run(string(mode), func(t *testing.T) { ninetyDays(t, mode) })
	}
}

func ninetyDays(t *testing.T, replies config.Replies) {
	s := newStack(t)
	imapSrv, err := testenv.StartMemIMAP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(imapSrv.Close)
	start := time.Now()
	clk := &clock{now: start}

	port := freeTCPPort(t)
	hook := fmt.Sprintf("http://127.0.0.1:%d/github/webhook", port)
	cfg := s.config(s.hs.URL)
	cfg.Matrix.CommandMaxAge = 1000 * 24 * time.Hour // the room's events carry real time, the bot lives in the future
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.GitHub.Webhook = config.Webhook{Path: "/github/webhook", Secret: config.NewSecret(webhookSecret)}
	cfg.GitHub.AggregationWindow, cfg.GitHub.PollInterval = 0, 0
	cfg.GitHub.Subscriptions = []config.Subscription{{Rooms: []string{s.room.String()}, Repos: []string{"Codertocat/Hello-World"},
		Events: config.DefaultEvents, Bots: config.BotsShow, Drafts: config.DraftsShow}}
	cfg.ProdHash.Rooms = []string{s.room.String()}
	cfg.ProdHash.CheckInterval = 50 * time.Millisecond
	cfg.Mail = config.Defaults().Mail
	cfg.Mail.IMAP = config.IMAP{Address: imapSrv.Address, TLS: config.TLSNone, Username: imapSrv.Username,
		Password: config.NewSecret(imapSrv.Password), Mailbox: "INBOX", PollInterval: 100 * time.Millisecond, NoopInterval: time.Second}
	cfg.Mail.ListID, cfg.Mail.Rooms, cfg.Mail.Replies, cfg.Mail.Backfill = []string{mailList}, []string{s.room.String()}, replies, 100
	startBotWith(t, cfg, app.Options{Now: clk.Now})

	day := func(n int) { clk.toDay(start, n) }
	deliver := func(event, id string, body []byte) {
		t.Helper()
		if code := postDelivery(t, hook, event, id, body, sign(body)); code/100 != 2 {
			t.Fatalf("delivery %s: HTTP %d", id, code)
		}
	}
	pr := func(file string, edit func(map[string]any)) []byte {
		return delivery(t, file, func(o map[string]any) {
			numbered(1, "Build images for RHEL 10")(o)
			o["html_url"] = "https://github.com/Codertocat/Hello-World/pull/1"
			if edit != nil {
				edit(o)
			}
		})
	}

	// Day 0: a pull request, a mail thread, and the deploy checks' first
	// look (which only records what runs).
	day(0)
	s.waitStatus(t, "✓ deploy announcements")
	deliver("pull_request", "pr-opened", pr("pull_request.opened.payload.json", nil))
	prRoot := s.human.MustWait(t, wait, "the pull request's message", func(e *event.Event) bool {
		return isNotice(e) && e.Content.AsMessage().RelatesTo == nil && strings.Contains(testenv.Body(e), "Hello-World#1 Build images")
	}).ID
	mustAppend(t, imapSrv, listMail("root@example.com", "Azure images", "", mailList))
	mailRoot := s.human.MustWait(t, wait, "the mail thread", threadRootAbout("Azure images")).ID
	mustAppend(t, imapSrv, listMail("reply-0@example.com", "Re: Azure images", "root@example.com", mailList))
	s.human.MustWait(t, wait, "the day-0 reply", relatesTo(mailRoot, 1))

	day(3)
	deliver("pull_request", "pr-labeled", pr("pull_request.labeled.payload.json", nil))
	day(12)
	mustAppend(t, imapSrv, listMail("reply-12@example.com", "Re: Azure images", "reply-0@example.com", mailList))
	s.human.MustWait(t, wait, "the day-12 reply", relatesTo(mailRoot, 2))

	day(20)
	s.github.SetDiagram(deployedDiagram(composerSHA, newComposerSHA), clk.Now())
	s.human.MustWait(t, wait, "the day-20 deploy", announcementOf("image-builder-composer"))

	day(35)
	mustAppend(t, imapSrv, listMail("reply-35@example.com", "Re: Azure images", "reply-12@example.com", mailList))
	s.human.MustWait(t, wait, "the day-35 reply", relatesTo(mailRoot, 3))

	day(40)
	deliver("pull_request", "pr-merged", pr("pull_request.closed.payload.json", func(o map[string]any) {
		o["merged"], o["merged_at"], o["state"] = true, clk.Now().UTC().Format(time.RFC3339), "closed"
	}))
	merged := s.human.MustWait(t, wait, "the merge edit", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelReplace && strings.Contains(testenv.Body(e), "merged")
	})

	day(60)
	s.github.SetOlder("osbuild/osbuild-composer", composerSHA)
	s.github.SetDiagram(deployedDiagram(), clk.Now())
	s.human.MustWait(t, wait, "the day-60 rollback", func(e *event.Event) bool {
		return isNotice(e) && strings.Contains(testenv.Body(e), "image-builder-composer rolled back")
	})

	day(90)
	s.settle(t)

	if got := merged.Content.AsMessage().RelatesTo.EventID; got != prRoot {
		t.Errorf("the day-40 merge edited %s, want the day-0 message %s", got, prRoot)
	}
	if n := s.human.Count(relatesTo(prRoot, 0)); n < 2 {
		t.Errorf("the merge left %d relations to the pull request's message, want its edit and its thread line", n)
	}
	if n := s.human.Count(func(e *event.Event) bool {
		return isNotice(e) && e.Content.AsMessage().RelatesTo == nil && strings.Contains(testenv.Body(e), "Hello-World#1 ")
	}); n != 1 {
		t.Errorf("the pull request was posted %d times, want once", n)
	}
	if n := s.human.Count(relatesTo(mailRoot, 0)); n != 3 {
		t.Errorf("%d messages relate to the mail thread's root, want its 3 replies (%s mode)", n, replies)
	}
	if n := s.human.Count(threadRootAbout("Azure images")); n != 1 {
		t.Errorf("the mail thread was posted %d times, want once", n)
	}
	if n := s.human.Count(announcementOf("image-builder-composer")); n != 1 {
		t.Errorf("A → B announced %d times, want once", n)
	}
	if n := s.human.Count(func(e *event.Event) bool { return strings.Contains(testenv.Body(e), "rolled back") }); n != 1 {
		t.Errorf("B → A announced %d times, want once", n)
	}
	assertPruned(t, s.dbPath)
}

// relatesTo matches a message tied to root: for n > 0, the nth reply
// (thread mode: a thread message; count mode: the edit that counts n).
func relatesTo(root id.EventID, n int) func(*event.Event) bool {
	return func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		if rel == nil || rel.EventID != root {
			return false
		}
		switch {
		case n == 0:
			return true
		case rel.Type == event.RelThread:
			return true
		case n == 1:
			return strings.Contains(testenv.Body(e), "· 1 reply")
		default:
			return strings.Contains(testenv.Body(e), fmt.Sprintf("· %d replies", n))
		}
	}
}

func mustAppend(t *testing.T, srv *testenv.IMAPServer, raw []byte) {
	t.Helper()
	if err := srv.Append(raw); err != nil {
		t.Fatal(err)
	}
}

// assertPruned checks that the outbox really was pruned: the day-0
// messages are gone from it, and the announcements others relate to live
// on as relations.
func assertPruned(t *testing.T, dbPath string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var inOutbox, relations int
	db.QueryRow(`SELECT COUNT(*) FROM outbox WHERE key LIKE 'gh:root:%' OR key LIKE 'mail:root:%'`).Scan(&inOutbox)
	db.QueryRow(`SELECT COUNT(*) FROM relations WHERE key LIKE 'gh:root:%' OR key LIKE 'mail:root:%'`).Scan(&relations)
	if inOutbox != 0 || relations != 2 {
		t.Errorf("after 90 days: %d day-0 announcements still in the outbox (want 0: pruned), %d kept as relations (want 2)", inOutbox, relations)
	}
}
