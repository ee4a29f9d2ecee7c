package incidents

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/httpcache"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/testenv"
)

// clock is a test's time, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lifeOf runs a watcher over the Statuspage stand-in, on a real SQLite
// store, each check's new messages returned by step.
type lifeOf struct {
	t     *testing.T
	page  *testenv.Statuspage
	st    *store.DB
	rec   *testenv.Recorder
	clock *clock
	w     *Watcher
	scope *Scope
	seen  int
}

func newLife(t *testing.T) *lifeOf {
	c := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	page := testenv.NewStatuspage(c.now, "Image Builder", "Insights")
	t.Cleanup(page.Close)
	st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "ibbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l := &lifeOf{t: t, page: page, st: st, rec: &testenv.Recorder{}, clock: c}
	l.restart()
	return l
}

// restart makes a new watcher over the same store and page, as a new
// process would.
func (l *lifeOf) restart() {
	l.scope = scopeOf(l.t, l.st, []string{"!ops:x"})
	l.w = &Watcher{Page: &Feed{Base: l.page.URL, HTTP: &http.Client{Transport: httpcache.New(nil, 16)}}, Base: l.page.URL,
		Store: l.st, Poster: l.rec, Rooms: Rooms(l.scope), Components: []string{"Image Builder"},
		Interval: time.Minute, Log: zerolog.Nop(), Now: l.clock.now}
}

func (l *lifeOf) step() []string {
	l.t.Helper()
	if err := l.w.Check(context.Background()); err != nil {
		l.t.Fatal(err)
	}
	all := l.rec.All()
	var out []string
	for _, s := range all[l.seen:] {
		out = append(out, fmt.Sprintf("%s %s", s.Rel, s.Plain))
	}
	l.seen = len(all)
	return out
}

func (l *lifeOf) want(what string, got []string, want ...string) {
	l.t.Helper()
	if strings.Join(got, "\n--\n") != strings.Join(want, "\n--\n") {
		l.t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func (l *lifeOf) incidents() string {
	l.t.Helper()
	rep, err := Command(l.st, l.scope, l.clock.now).Run(context.Background(), bot.Request{Command: "incidents"})
	if err != nil {
		l.t.Fatal(err)
	}
	return rep.Plain
}

// TestAnIncidentsLife: the first look is silent; a new incident is one
// message with its updates in the thread, an update a line and an edit,
// the resolution an edit; nothing twice across a restart; an incident of
// a component not followed says nothing; an unchanged page costs 304s.
func TestAnIncidentsLife(t *testing.T) {
	l := newLife(t)
	old := l.page.Open("Exports slow", "minor", "We see delays.", "Image Builder")
	l.clock.add(time.Hour)
	l.page.Update(old, "resolved", "Back to normal.")
	openAtStart := l.page.Open("Logins fail", "major", "Some logins fail.", "Image Builder")
	l.want("the first look", l.step())
	if got := l.incidents(); !strings.HasPrefix(got, "🟠 Logins fail (https://stspg.io/"+openAtStart+") · investigating since just now — Some logins fail.") ||
		!strings.Contains(got, "Last resolved: Exports slow (https://stspg.io/"+old+"), just now") || !strings.Contains(got, "\nComponents: Image Builder: partial outage\n") {
		t.Errorf("!incidents after the first look: %q", got)
	}

	l.clock.add(10 * time.Minute)
	id := l.page.Open("Image builds fail", "critical", "Builds of every image type fail.", "Image Builder")
	l.want("a new incident", l.step(),
		"root 🔴 Incident: Image builds fail · critical impact · Investigating\nAffects: Image Builder (partial outage)\nDetails on the status page (https://stspg.io/"+id+")",
		"thread Investigating: Builds of every image type fail.")
	l.want("nothing new", l.step())
	if all, notMod := l.page.Requests(); notMod < 3 {
		t.Errorf("an unchanged page was fetched again: %d requests, %d answered 304", all, notMod)
	}

	l.clock.add(20 * time.Minute)
	l.page.Update(id, "identified", "A bad deploy of composer; rolling back.")
	l.want("an update", l.step(),
		"edit 🔴 Incident: Image builds fail · critical impact · Identified\nAffects: Image Builder (partial outage)\nDetails on the status page (https://stspg.io/"+id+")",
		"thread Identified: A bad deploy of composer; rolling back.")

	l.clock.add(40 * time.Minute)
	l.page.Update(id, "resolved", "Builds work again.")
	l.page.Update(openAtStart, "monitoring", "A fix is out.")
	l.restart()
	l.want("resolved, and an update of the incident open at the first look", l.step(),
		"root 🟠 Incident: Logins fail · major impact · Monitoring\nAffects: Image Builder (partial outage)\nDetails on the status page (https://stspg.io/"+openAtStart+")",
		"thread Monitoring: A fix is out.",
		"edit ✅ Resolved: Image builds fail · was critical impact · lasted 1h\nAffects: Image Builder\nDetails on the status page (https://stspg.io/"+id+")",
		"thread Resolved: Builds work again.")
	l.restart()
	l.want("after a restart", l.step())

	l.page.Open("Insights slow", "minor", "Slow.", "Insights")
	l.want("a component not followed", l.step())
	if got := l.incidents(); !strings.Contains(got, "Last resolved: Image builds fail") {
		t.Errorf("!incidents after the resolution: %q", got)
	}
}

// TestAMaintenancesLife: announced when scheduled, reminded when its
// window opens (before the page says so), closed when completed.
func TestAMaintenancesLife(t *testing.T) {
	l := newLife(t)
	l.want("the first look", l.step())
	from := l.clock.now().Add(2 * time.Hour)
	id := l.page.Schedule("Database upgrade", "Builds queue for two hours.", from, from.Add(2*time.Hour), "Image Builder")
	l.want("scheduled", l.step(),
		"root 🛠 Maintenance scheduled: Database upgrade · Sat 5 Dec 11:00–13:00 UTC\nAffects: Image Builder\nDetails on the status page (https://stspg.io/"+id+")",
		"thread Scheduled: Builds queue for two hours.")
	if got := l.incidents(); !strings.Contains(got, "🛠 Database upgrade (https://stspg.io/"+id+") · Sat 5 Dec 11:00–13:00 UTC") || strings.Contains(got, "under way") {
		t.Errorf("!incidents with a maintenance ahead: %q", got)
	}
	l.clock.add(2 * time.Hour)
	l.want("its window opens", l.step(),
		"edit 🛠 Maintenance under way: Database upgrade · Sat 5 Dec 11:00–13:00 UTC\nAffects: Image Builder\nDetails on the status page (https://stspg.io/"+id+")",
		" 🛠 Maintenance starting now: Database upgrade, until 13:00 UTC — details (https://stspg.io/"+id+")")
	l.page.Update(id, "in_progress", "Started.")
	got := l.step()
	if len(got) != 2 || !strings.HasPrefix(got[0], "edit 🛠 Maintenance under way") || got[1] != "thread In progress: Started." {
		t.Errorf("the page says it started: %q", got)
	}
	l.clock.add(90 * time.Minute)
	l.page.Update(id, "completed", "Done.")
	l.want("completed", l.step(),
		"edit ✅ Maintenance completed: Database upgrade · Sat 5 Dec 11:00–13:00 UTC\nAffects: Image Builder\nDetails on the status page (https://stspg.io/"+id+")",
		"thread Completed: Done.")
	if got := l.incidents(); strings.Contains(got, "Database upgrade") {
		t.Errorf("!incidents after the maintenance: %q", got)
	}
}

// scopeOf is the incidents' scope for rooms, on the test's store, as ibbot
// wires it (the rooms named by id).
func scopeOf(t *testing.T, st *store.DB, rooms []string) *Scope {
	t.Helper()
	names := roomscope.NamesFunc(func(name string, room id.RoomID) bool { return name == room.String() })
	reg, err := roomscope.Open(context.Background(), st, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	scope, err := roomscope.Add(context.Background(), reg, Source(rooms))
	if err != nil {
		t.Fatal(err)
	}
	return scope
}

// TestARoomMutesTheIncidents: a room admin's !incidents mute keeps the
// page's news out of the room (across a restart), while the page is still
// read; unmuting brings the next incident.
func TestARoomMutesTheIncidents(t *testing.T) {
	l := newLife(t)
	l.want("the first look", l.step())
	mute := func(verb string) string {
		t.Helper()
		rep, err := Command(l.st, l.scope, l.clock.now).Run(context.Background(), bot.Request{Command: "incidents", Prefix: "!",
			Args: []string{verb}, RoomID: "!ops:x", Sender: "@admin:x"})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	if got := mute("mute"); got != "@admin:x muted the status page's incidents in this room; `!incidents unmute` brings them back." {
		t.Errorf("mute: %q", got)
	}
	l.restart()
	l.page.Open("Builds fail", "major", "Investigating.", "Image Builder")
	l.clock.add(time.Minute)
	l.want("an incident in a muted room", l.step())
	if got := mute("unmute"); got != "@admin:x unmuted the status page's incidents: this room gets them again." {
		t.Errorf("unmute: %q", got)
	}
	l.page.Open("Uploads fail", "minor", "Investigating.", "Image Builder")
	l.clock.add(time.Minute)
	if got := l.step(); len(got) == 0 || !strings.Contains(got[0], "Uploads fail") {
		t.Errorf("after unmuting: %q", got)
	}
}
