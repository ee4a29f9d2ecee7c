package meetings

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/httpcache"
	"github.com/osbuild/ibbot/internal/testenv"
)

func readCalendar(t *testing.T) []byte {
	t.Helper()
	body, err := os.ReadFile("testdata/weekly.ics")
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestRecurrenceAcrossDST: a weekly meeting at 11:00 New York time stays
// at 11:00 there when daylight saving time ends (15:00 UTC, then 16:00);
// an excluded date is left out, a moved occurrence takes its place, a
// cancelled event and a minutely flood are no meetings.
func TestRecurrenceAcrossDST(t *testing.T) {
	cal, err := ParseCalendar(readCalendar(t))
	if err != nil {
		t.Fatal(err)
	}
	got := Expand(cal, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	var starts []string
	for _, o := range got {
		starts = append(starts, o.Start.Format("Jan 2 15:04")+" "+o.Summary)
	}
	want := []string{"Oct 20 15:00 Image Builder weekly", "Oct 27 15:00 Image Builder weekly", "Nov 3 16:00 Image Builder weekly",
		"Nov 17 17:00 Image Builder weekly (moved)", "Nov 24 16:00 Image Builder weekly", "Dec 1 16:00 Image Builder weekly"}
	if strings.Join(starts, "\n") != strings.Join(want, "\n") {
		t.Errorf("occurrences:\n%s\nwant:\n%s", strings.Join(starts, "\n"), strings.Join(want, "\n"))
	}
	if got[0].Agenda != "https://discussion.fedoraproject.org/t/image-builder-weekly/1234" || got[3].Agenda != "https://discussion.fedoraproject.org/t/image-builder-weekly/1240" {
		t.Errorf("agendas %q, %q", got[0].Agenda, got[3].Agenda)
	}
	if got[2].End.Sub(got[2].Start) != 30*time.Minute {
		t.Errorf("the meeting lasts %s", got[2].End.Sub(got[2].Start))
	}
}

// TestRemindersBeforeEachMeeting: ten minutes before the start, once per
// room, across a restart; the feed read again with conditional requests.
func TestRemindersBeforeEachMeeting(t *testing.T) {
	body := readCalendar(t)
	asked, notModified := 0, 0
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked++
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Write(body)
	}))
	defer feed.Close()
	now := time.Date(2026, 11, 3, 15, 49, 0, 0, time.UTC) // 11 minutes before, New York's DST over
	rec := &testenv.Recorder{}
	remind := func() *Reminders {
		clock := func() time.Time { return now }
		cal := &Calendar{URL: feed.URL, HTTP: &http.Client{Transport: httpcache.New(nil, 4)}, Refresh: time.Minute, Now: clock}
		return &Reminders{Calendar: cal, Poster: rec, Rooms: func() []string { return []string{"#image-builder:example.org"} },
			Before: 10 * time.Minute, Log: zerolog.Nop(), Now: clock}
	}
	r := remind()
	check := func() {
		t.Helper()
		if err := r.Check(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	check()
	if n := len(rec.All()); n != 0 {
		t.Fatalf("%d reminders 11 minutes before", n)
	}
	now = now.Add(90 * time.Second)
	check()
	check()
	r = remind() // a restart
	check()
	sent := rec.All()
	if len(sent) != 1 || sent[0].Plain != "📅 Image Builder weekly starts in 9 minutes, at 16:00 UTC — agenda (https://discussion.fedoraproject.org/t/image-builder-weekly/1234)" {
		t.Errorf("reminders %+v", sent)
	}
	if next, ok := r.Calendar.Next(context.Background()); !ok || next.Start != time.Date(2026, 11, 3, 16, 0, 0, 0, time.UTC) {
		t.Errorf("next %+v", next)
	}
	now = now.Add(2 * time.Minute) // past Refresh: read again
	check()
	if notModified == 0 {
		t.Errorf("the feed was read %d times, never conditionally", asked)
	}
}

func FuzzParseCalendar(f *testing.F) {
	body, _ := os.ReadFile("testdata/weekly.ics")
	f.Add(body)
	f.Add([]byte("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20261101T000000Z\r\nRRULE:FREQ=DAILY;INTERVAL=0\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"))
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		cal, err := ParseCalendar(body)
		if err != nil {
			return
		}
		got := Expand(cal, from, from.AddDate(1, 0, 0))
		if len(got) > maxOccurrences*len(cal.Events()) {
			t.Fatalf("%d occurrences of %d events", len(got), len(cal.Events()))
		}
		for _, o := range got {
			if o.Start.Before(from) || !o.Start.Before(from.AddDate(1, 0, 0)) {
				t.Fatalf("an occurrence out of range: %v", o.Start)
			}
		}
	})
}

// TestMeetingsNamesTheNextOne: !meetings says when the calendar's next
// meeting is, and links its agenda.
func TestMeetingsNamesTheNextOne(t *testing.T) {
	cal, err := ParseCalendar(readCalendar(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	r := newRoom(t)
	r.cmds.Now = func() time.Time { return now }
	r.cmds.Next = func(context.Context) (Occurrence, bool) {
		next := Expand(cal, now, now.AddDate(0, 1, 0))
		return next[0], len(next) > 0
	}
	rep, err := r.cmds.list(context.Background(), bot.Request{Command: "meetings", RoomID: roomID})
	if err != nil {
		t.Fatal(err)
	}
	if want := "Next: Image Builder weekly, Tue 3 Nov 16:00 UTC (in 2 hours) — agenda (https://discussion.fedoraproject.org/t/image-builder-weekly/1234)"; !strings.Contains(rep.Plain, want) {
		t.Errorf("!meetings: %q, want %q", rep.Plain, want)
	}
}
