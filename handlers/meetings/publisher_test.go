package meetings

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// room is a meeting room over a real SQLite store: people say things,
// which the recorder sees as the bot would hand them over, and the
// commands answer as the bot would run them.
type room struct {
	t        *testing.T
	st       *store.DB
	rec      *Recorder
	cmds     *Commands
	now      time.Time
	n        int
	levels   map[string]int
	answered map[string]bot.Reply
}

const roomID = "!weekly:example.org"

func newRoom(t *testing.T) *room {
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &room{t: t, st: st, now: meetingStart, levels: map[string]int{"@ana:example.org": 50}, answered: map[string]bot.Reply{}}
	r.rec = &Recorder{Store: st, Prefix: "!", PowerLevel: 50, Log: zerolog.Nop()}
	r.cmds = &Commands{Store: st, Recorder: r.rec, Pages: "https://status.example.org/meetings/", Now: func() time.Time { return r.now }}
	return r
}

// say is a message from who; a command is answered; it returns the
// event id.
func (r *room) say(who, text string) string {
	r.t.Helper()
	r.n++
	r.now = r.now.Add(time.Minute)
	ev := fmt.Sprintf("$ev%02d", r.n)
	sender := id.UserID("@" + who + ":example.org")
	seen := bot.Seen{Kind: bot.SeenMessage, RoomID: roomID, EventID: id.EventID(ev), Sender: sender, Body: text, At: r.now,
		PowerLevel: func(context.Context) (int, error) { return r.levels[sender.String()], nil }}
	if err := r.rec.Observe(context.Background(), seen); err != nil {
		r.t.Fatal(err)
	}
	if name, _, ok := command(text, "!"); ok {
		for _, c := range r.cmds.All() {
			if c.Name == name || (len(c.Aliases) > 0 && c.Aliases[0] == name) {
				rep, err := c.Run(context.Background(), bot.Request{Command: c.Name, RoomID: roomID, EventID: id.EventID(ev), Sender: sender, Prefix: "!"})
				if err != nil {
					r.t.Fatal(err)
				}
				r.answered[ev] = rep
			}
		}
	}
	return ev
}

func (r *room) change(kind bot.SeenKind, target, body string) {
	r.t.Helper()
	r.n++
	if err := r.rec.Observe(context.Background(), bot.Seen{Kind: kind, RoomID: roomID, EventID: id.EventID(fmt.Sprintf("$ev%02d", r.n)),
		Target: id.EventID(target), Body: body, At: r.now}); err != nil {
		r.t.Fatal(err)
	}
}

// holdMeeting runs a meeting with every command, an edit and a redaction.
func (r *room) holdMeeting() {
	if rep := r.answered[r.say("bo", "!startmeeting not mine")]; !strings.Contains(rep.Plain, "needs power level 50 (yours is 0)") {
		r.t.Errorf("a member's !startmeeting: %q", rep.Plain)
	}
	start := r.say("ana", "!startmeeting Image Builder weekly")
	if rep := r.answered[start]; !strings.HasPrefix(rep.Plain, "🗓 Meeting started: Image Builder weekly") {
		r.t.Errorf("!startmeeting answered %q", rep.Plain)
	}
	r.say("ana", "!topic Releases")
	info := r.say("bo", "!info composer 120 is out")
	if rep := r.answered[info]; rep.React != Done {
		r.t.Errorf("!info answered %+v, want a reaction", rep)
	}
	r.change(bot.SeenEdit, info, "!info composer 121 is out")
	if rep := r.answered[r.say("bo", "!topic mine")]; !strings.HasPrefix(rep.Plain, "Not recorded: only the meeting's chairs") {
		r.t.Errorf("a non-chair's !topic: %q", rep.Plain)
	}
	r.say("ana", "!chair @bo:example.org")
	r.say("bo", "!agreed ship 121 on Monday <script>alert(1)</script>")
	r.say("cy", "!action @bo:example.org write the release notes")
	r.say("cy", "!action update the wiki")
	r.say("cy", "!idea a checklist")
	r.say("cy", "!link https://osbuild.org/docs/ the docs")
	r.say("ana", "!topic Open floor")
	oops := r.say("cy", "something I regret @room")
	r.change(bot.SeenRedaction, oops, "")
	r.say("ana", "!info a mistake")
	r.say("ana", "!undo")
	r.say("ana", "!meetingname Image Builder weekly sync")
	if rep := r.answered[r.say("ana", "!endmeeting")]; rep.React != Done {
		r.t.Errorf("!endmeeting answered %+v", rep)
	}
}

func TestAMeetingsMinutesGoOut(t *testing.T) {
	r := newRoom(t)
	ended := 0
	r.rec.Ended = func() { ended++ }
	r.holdMeeting()
	if ended != 1 {
		t.Fatalf("the publisher was told of %d ends", ended)
	}
	if rep := r.answered[r.say("bo", "!info after the end")]; !strings.HasPrefix(rep.Plain, "No meeting runs here") {
		t.Errorf("a command after the end: %q", rep.Plain)
	}
	poster := &testenv.Recorder{}
	sender := &mail.Sender{Config: config.SMTP{From: "ibbot <ibbot@example.org>"}, Store: r.st, Now: func() time.Time { return r.now }}
	p := &Publisher{Store: r.st, Poster: poster, Prefix: "!", Pages: "https://status.example.org/meetings/", MaxDuration: 3 * time.Hour,
		MinutesTo: "image-builder@lists.example.org", Mailer: sender, Log: zerolog.Nop(), Now: func() time.Time { return r.now }}
	for range 2 {
		if err := p.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	sent := poster.All()
	msgID := mail.MessageIDFor("meeting $ev02", "ibbot <ibbot@example.org>")
	if len(sent) != 1 || sent[0].Key != "mail:root:"+roomID+":"+msgID || !strings.HasPrefix(sent[0].Plain, "📝 Minutes: Image Builder weekly sync") {
		t.Fatalf("posted %+v", sent)
	}
	waiting, _ := r.st.MailToSend(context.Background(), 5)
	if len(waiting) != 1 || waiting[0].MessageID != msgID || !strings.Contains(string(waiting[0].Raw), "Subject: Minutes: Image Builder weekly sync (2026-12-05)") {
		t.Fatalf("mail queued %+v", waiting)
	}
	m, _, _ := r.st.Meeting(context.Background(), "$ev02")
	lines, _ := r.st.MeetingLines(context.Background(), m.ID)
	min := Fold(m, lines, "!")
	rendered := RenderMinutes(min, p.Pages)
	golden.Check(t, "minutes.golden", "plain:\n"+rendered.Plain+"\n\nhtml:\n"+rendered.HTML+"\n")
	golden.Check(t, "log.golden", string(LogText(min)))
	golden.Check(t, "minutes-mail.golden", MinutesText(min, p.Pages))
	if strings.Contains(rendered.HTML, "<script>") || strings.Contains(rendered.Plain, "regret") {
		t.Error("the minutes carry raw HTML, or a redacted line")
	}

	if rep := r.answered[r.say("bo", "!meetings")]; !strings.Contains(rep.Plain, "• Image Builder weekly sync (https://status.example.org/meetings/2026-12-05-") {
		t.Errorf("!meetings: %q", rep.Plain)
	}
}

func TestAMeetingLeftOpenIsEnded(t *testing.T) {
	r := newRoom(t)
	r.say("ana", "!startmeeting forgotten")
	r.say("bo", "hello?")
	poster := &testenv.Recorder{}
	p := &Publisher{Store: r.st, Poster: poster, Prefix: "!", MaxDuration: 3 * time.Hour, Log: zerolog.Nop(), Now: func() time.Time { return r.now }}
	if err := p.Step(context.Background()); err != nil || len(poster.All()) != 0 {
		t.Fatalf("a meeting still in time was published: %v %+v", err, poster.All())
	}
	r.now = r.now.Add(3 * time.Hour)
	if err := p.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sent := poster.All(); len(sent) != 1 || !strings.Contains(sent[0].Plain, "The meeting was ended by ibbot after 3h0m0s: no chair said !endmeeting.") {
		t.Errorf("posted %+v", sent)
	}
	if _, running, _ := r.st.RunningMeeting(context.Background(), roomID); running {
		t.Error("the meeting still runs")
	}
}

func TestMeetingPages(t *testing.T) {
	r := newRoom(t)
	r.holdMeeting()
	r.say("ana", "!startmeeting still running")
	srv := httptest.NewServer(func() http.Handler {
		mux := http.NewServeMux()
		(&Pages{Store: r.st, Prefix: "!", Title: "Image Builder"}).Register(mux)
		return mux
	}())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s has no strict Content-Security-Policy", path)
		}
		return resp.StatusCode, string(b)
	}
	_, index := get("/meetings/")
	m, _, _ := r.st.Meeting(context.Background(), "$ev02")
	slug := Slug(m)
	if !strings.Contains(index, `<a href="`+slug+`/">Image Builder weekly sync</a>`) || strings.Contains(index, "still running") {
		t.Errorf("the index: %s", index)
	}
	_, minutes := get("/meetings/" + slug + "/")
	for _, want := range []string{"<h1>Image Builder weekly sync</h1>", "ship 121 on Monday &lt;script&gt;", "<h3>@bo:example.org</h3>", "<h3>Unassigned</h3>",
		`<a href="https://osbuild.org/docs/">the docs</a>`, "https://matrix.to/#/%21weekly:example.org/$ev"} {
		if !strings.Contains(minutes, want) {
			t.Errorf("the minutes page lacks %q", want)
		}
	}
	_, log := get("/meetings/" + slug + "/log")
	if !strings.Contains(log, "!info composer 121 is out</span>") && !strings.Contains(log, "!info composer 121 is out <span class=\"note\">(edited)</span>") {
		t.Errorf("the log page lacks the edited line: %s", log)
	}
	if strings.Contains(log, "regret") || strings.Contains(log, "<script>") {
		t.Error("the log page shows a redacted line, or raw HTML")
	}
	if code, _ := get("/meetings/2026-01-01-00000000/"); code != http.StatusNotFound {
		t.Errorf("an unknown meeting answered %d", code)
	}
}
