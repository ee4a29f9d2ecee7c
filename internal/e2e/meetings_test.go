package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/testenv"
)

// TestAMeetingFromStartToMinutes: a meeting held through Dendrite with
// every command, an edit, a redaction and a restart of the bot in the
// middle. The commands are answered with reactions; the minutes come to
// the room with the log attached, to the status page, and to the list
// through a real SMTP server, whose echo reaches the Dovecot mailbox the
// bot reads and is not announced again: a reply to it on the list goes
// into the minutes' thread. A calendar's weekly meeting, begun before a
// change of daylight saving time, is reminded at the right hour.
func TestAMeetingFromStartToMinutes(t *testing.T) {
	d := needDovecot(t)
	s := newStack(t)
	ctx := context.Background()
	bo := s.hs.NewUser(t, "bo")
	if _, err := s.human.InviteUser(ctx, s.room, &mautrix.ReqInviteUser{UserID: bo.UserID}); err != nil {
		t.Fatal(err)
	}
	if _, err := bo.JoinRoom(ctx, s.room.String(), nil); err != nil {
		t.Fatal(err)
	}
	list, err := testenv.StartMailingList("image-builder@lists.example.org", mailList, "ibbot@example.org", "smtp-pass-e2e", func(raw []byte) error { return d.Append(raw) })
	if err != nil {
		t.Fatal(err)
	}
	defer list.Close()
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/calendar")
		io.WriteString(w, weeklyAcrossDST(t, time.Now()))
	}))
	defer feed.Close()

	port := freeTCPPort(t)
	cfg := s.config(s.hs.URL)
	cfg.Mail = mailConfig(d, s.room.String())
	cfg.Mail.SMTP = config.SMTP{Address: list.Addr, TLS: config.TLSNone, Username: "ibbot@example.org", Auth: config.AuthPassword,
		Password: config.NewSecret("smtp-pass-e2e"), From: "ibbot <ibbot@example.org>"}
	cfg.Status.Listen, cfg.Status.PublicURL = fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("http://127.0.0.1:%d/", port)
	cfg.Meetings.MinutesTo = "image-builder@lists.example.org"
	cfg.Meetings.Calendar, cfg.Meetings.Refresh = feed.URL, time.Minute
	r := startBot(t, cfg)

	reminder := s.human.MustWait(t, wait, "the calendar's reminder", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "📅 Image Builder weekly starts in ")
	})
	if !strings.Contains(testenv.Body(reminder), "agenda (https://discussion.fedoraproject.org/t/image-builder-weekly/1234)") {
		t.Errorf("the reminder: %q", testenv.Body(reminder))
	}

	reacted := func(what string, ev id.EventID) {
		t.Helper()
		s.human.MustWait(t, wait, what+" answered with ✅", func(e *event.Event) bool {
			if e.Type != event.EventReaction {
				return false
			}
			_ = e.Content.ParseRaw(e.Type)
			rel := e.Content.AsReaction().RelatesTo
			return rel.EventID == ev && rel.Key == "✅"
		})
	}
	answered := func(what string, ev id.EventID, prefix string) {
		t.Helper()
		got := s.human.MustWait(t, wait, what, testenv.ReplyTo(ev))
		if !strings.HasPrefix(testenv.Body(got), prefix) {
			t.Errorf("%s: %q, want %q…", what, testenv.Body(got), prefix)
		}
	}
	answered("bo's !startmeeting", bo.MustSay(t, s.room, "!startmeeting mine"), "I did not start a meeting: starting a meeting here needs power level 50")
	answered("!startmeeting", s.human.MustSay(t, s.room, "!startmeeting Image Builder weekly"), "🗓 Meeting started: Image Builder weekly")
	reacted("!topic", s.human.MustSay(t, s.room, "!topic Releases"))
	info := bo.MustSay(t, s.room, "!info composer 120 is out")
	reacted("!info", info)
	if _, err := bo.SendMessageEvent(ctx, s.room, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "* !info composer 121 is out",
		NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "!info composer 121 is out"},
		RelatesTo:  &event.RelatesTo{Type: event.RelReplace, EventID: info}}); err != nil {
		t.Fatal(err)
	}
	answered("bo's !topic", bo.MustSay(t, s.room, "!topic mine"), "Not recorded: only the meeting's chairs")
	reacted("!chair", s.human.MustSay(t, s.room, "!chair "+bo.UserID.String()))
	reacted("!agreed", bo.MustSay(t, s.room, "!agreed ship 121 on Monday"))

	if err := r.stop(); err != nil { // a restart in the middle
		t.Fatal(err)
	}
	r = startBot(t, cfg)
	reacted("!action after the restart", s.human.MustSay(t, s.room, "!action "+bo.UserID.String()+" write the release notes"))
	reacted("!idea", bo.MustSay(t, s.room, "!idea a release checklist"))
	reacted("!link", bo.MustSay(t, s.room, "!link https://osbuild.org/docs/ the docs"))
	if _, err := bo.SayInThread(ctx, s.room, info, "said in a thread"); err != nil {
		t.Fatal(err)
	}
	regret := bo.MustSay(t, s.room, "something to take back")
	if _, err := bo.RedactEvent(ctx, s.room, regret); err != nil {
		t.Fatal(err)
	}
	reacted("!info", s.human.MustSay(t, s.room, "!info a mistake"))
	reacted("!undo", s.human.MustSay(t, s.room, "!undo"))
	reacted("!meetingname", s.human.MustSay(t, s.room, "!meetingname Image Builder weekly sync"))
	reacted("!endmeeting", s.human.MustSay(t, s.room, "!endmeeting"))

	minutes := s.human.MustWait(t, wait, "the minutes", func(e *event.Event) bool {
		return isNotice(e) && strings.HasPrefix(testenv.Body(e), "📝 Minutes: Image Builder weekly sync")
	})
	body := testenv.Body(minutes)
	for _, want := range []string{"composer 121 is out", "ship 121 on Monday", "action (" + bo.UserID.String() + ")", "the docs (https://osbuild.org/docs/)",
		"Chairs: " + s.human.UserID.String() + ", " + bo.UserID.String()} {
		if !strings.Contains(body, want) {
			t.Errorf("the minutes lack %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "a mistake") || strings.Contains(body, "take back") {
		t.Errorf("the minutes keep an undone item or a redacted line:\n%s", body)
	}
	s.human.MustWait(t, wait, "the log attached", func(e *event.Event) bool {
		m := e.Content.AsMessage()
		return e.Type == event.EventMessage && m.MsgType == event.MsgFile && strings.HasSuffix(m.Body, ".log.txt")
	})
	pages := fmt.Sprintf("http://127.0.0.1:%d/meetings/", port)
	index := fetchPage(t, pages)
	if !strings.Contains(index, "Image Builder weekly sync</a>") {
		t.Fatalf("the status page's meetings: %s", index)
	}
	slug := index[strings.Index(index, `<a href="20`)+len(`<a href="`):]
	slug = slug[:strings.Index(slug, `"`)]
	if log := fetchPage(t, pages+slug+"log"); !strings.Contains(log, "said in a thread") || !strings.Contains(log, "(edited)") || strings.Contains(log, "take back") {
		t.Errorf("the log page: %s", log)
	}

	// The pages follow the status page's rules for phones, dark mode and
	// screen readers too.
	browser := chromium(t)
	for _, page := range []string{pages + slug, pages + slug + "log"} {
		checkAxe(t, browser, page)
	}

	// The list got the minutes; its echo came back through Dovecot.
	deadline := time.Now().Add(wait)
	for len(list.Received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	got := list.Received()
	if len(got) != 1 || !strings.Contains(string(got[0].Raw), "Subject: Minutes: Image Builder weekly sync") {
		t.Fatalf("the list received %d mails", len(got))
	}
	msgID := headerOf(string(got[0].Raw), "Message-Id")
	reply := listMail("reply-to-minutes@example.com", "Re: Minutes: Image Builder weekly sync", strings.Trim(msgID, "<>"), mailList)
	if err := d.Append(reply); err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the list's reply in the minutes' thread", func(e *event.Event) bool {
		rel := e.Content.AsMessage().RelatesTo
		return rel != nil && rel.Type == event.RelThread && rel.EventID == minutes.ID && strings.HasPrefix(testenv.Body(e), "Ana Silva:")
	})
	if n := s.human.Count(threadRootAbout("Minutes: Image Builder weekly sync")); n != 0 {
		t.Errorf("the list's echo of the minutes was announced %d times", n)
	}
}

// weeklyAcrossDST is a calendar whose weekly meeting, at a New York wall
// clock time a few minutes from now, began on a date with the other UTC
// offset: only an expansion in the event's time zone puts today's
// occurrence a few minutes from now.
func weeklyAcrossDST(t *testing.T, now time.Time) string {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	next := now.Add(5 * time.Minute).In(ny).Truncate(time.Minute)
	_, offNow := next.Zone()
	first := next
	for weeks := 1; weeks < 30; weeks++ {
		first = next.AddDate(0, 0, -7*weeks)
		if _, off := first.Zone(); off != offNow {
			break
		}
	}
	return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ibbot e2e//EN\r\nBEGIN:VEVENT\r\nUID:weekly@example.org\r\nDTSTAMP:20260101T000000Z\r\n" +
		"DTSTART;TZID=America/New_York:" + first.Format("20060102T150405") + "\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY\r\n" +
		"SUMMARY:Image Builder weekly\r\nDESCRIPTION:Agenda: https://discussion.fedoraproject.org/t/image-builder-weekly/1234\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
}

func headerOf(raw, name string) string {
	for _, line := range strings.Split(raw, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
