package meetings

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // TZIDs resolve in a container without the system's zone files

	"github.com/emersion/go-ical"
	"github.com/rs/zerolog"
	"github.com/teambition/rrule-go"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/worker"
)

// Occurrence is one meeting on the calendar.
type Occurrence struct {
	UID     string
	Summary string
	Start   time.Time
	End     time.Time
	Agenda  string // the event's URL, or the first link of its description
}

// Limits of what a feed may ask of the expansion: recurrences finer than
// daily are no meetings, and no event yields more than maxOccurrences
// (nor makes more than maxSteps steps getting there).
const (
	maxFeedBytes   = 8 << 20
	maxOccurrences = 500
	maxSteps       = 100_000
)

// ParseCalendar reads an iCalendar feed.
func ParseCalendar(body []byte) (cal *ical.Calendar, err error) {
	if len(body) > maxFeedBytes {
		return nil, fmt.Errorf("the calendar is larger than %d MiB", maxFeedBytes>>20)
	}
	// go-ical's decoder panics on some malformed lines ("0;0=", found by
	// FuzzParseCalendar): a broken feed is an error, not a crash.
	defer func() {
		if r := recover(); r != nil {
			cal, err = nil, fmt.Errorf("not an iCalendar feed: %v", r)
		}
	}()
	cal, err = ical.NewDecoder(bytes.NewReader(body)).Decode()
	if err != nil {
		return nil, fmt.Errorf("not an iCalendar feed: %w", err)
	}
	return cal, nil
}

// Expand lists the calendar's meetings that start in [from, to), in
// order: recurring events expanded (RRULE, RDATE, EXDATE, in the event's
// time zone, so a weekly 15:00 stays 15:00 across a change to or from
// daylight saving time), a moved or cancelled occurrence (RECURRENCE-ID)
// taking its series' place.
func Expand(cal *ical.Calendar, from, to time.Time) []Occurrence {
	overrides := map[string]map[int64]bool{} // uid -> starts a RECURRENCE-ID replaces
	for _, ev := range cal.Events() {
		if rid := ev.Props.Get(ical.PropRecurrenceID); rid != nil {
			if t, err := rid.DateTime(time.UTC); err == nil {
				uid := text(ev, ical.PropUID)
				if overrides[uid] == nil {
					overrides[uid] = map[int64]bool{}
				}
				overrides[uid][t.Unix()] = true
			}
		}
	}
	var out []Occurrence
	for _, ev := range cal.Events() {
		out = append(out, expandEvent(ev, overrides, from, to)...)
	}
	slices.SortFunc(out, func(a, b Occurrence) int { return cmp.Or(a.Start.Compare(b.Start), cmp.Compare(a.UID, b.UID)) })
	return out
}

// expandEvent lists one event's occurrences in [from, to); an event that
// does not read is left out, not the feed.
func expandEvent(ev ical.Event, overrides map[string]map[int64]bool, from, to time.Time) (out []Occurrence) {
	defer func() {
		if recover() != nil { // a library's panic on a strange event
			out = nil
		}
	}()
	if st, _ := ev.Status(); st == ical.EventCancelled {
		return nil
	}
	base, err := occurrenceOf(ev)
	if err != nil {
		return nil
	}
	length := base.End.Sub(base.Start)
	starts, err := startsOf(ev, base.Start, from.Add(-length), to)
	if err != nil {
		return nil
	}
	_, isOverride := ev.Props[ical.PropRecurrenceID]
	for _, s := range starts {
		if !isOverride && overrides[base.UID][s.Unix()] {
			continue
		}
		o := base
		o.Start, o.End = s.UTC(), s.Add(length).UTC()
		if !o.Start.Before(from) && o.Start.Before(to) {
			out = append(out, o)
		}
	}
	return out
}

func occurrenceOf(ev ical.Event) (Occurrence, error) {
	start, err := ev.DateTimeStart(time.UTC)
	if err != nil {
		return Occurrence{}, err
	}
	end, err := ev.DateTimeEnd(time.UTC)
	if err != nil || end.Before(start) {
		end = start
	}
	o := Occurrence{UID: text(ev, ical.PropUID), Summary: cmp.Or(text(ev, ical.PropSummary), "Meeting"), Start: start, End: end}
	if u := ev.Props.Get(ical.PropURL); u != nil && bot.SafeLink(u.Value) {
		o.Agenda = strings.TrimSpace(u.Value)
	} else if link := firstLink.FindString(text(ev, ical.PropDescription)); link != "" {
		o.Agenda = link
	}
	return o, nil
}

var firstLink = regexp.MustCompile(`https?://[^\s<>"]+`)

func text(ev ical.Event, name string) string {
	s, _ := ev.Props.Text(name)
	return strings.TrimSpace(s)
}

// startsOf are an event's starts up to before to: its own, or its
// recurrence's.
func startsOf(ev ical.Event, start, from, to time.Time) ([]time.Time, error) {
	opt, err := ev.Props.RecurrenceRule()
	if err != nil {
		return nil, err
	}
	if opt == nil {
		return []time.Time{start}, nil
	}
	if opt.Freq > rrule.DAILY { // rrule-go orders YEARLY < … < DAILY < HOURLY < …
		return nil, fmt.Errorf("a recurrence every %s is no meeting", opt.Freq)
	}
	opt.Dtstart = start
	rule, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, err
	}
	set := &rrule.Set{}
	set.DTStart(start)
	set.RRule(rule)
	for _, t := range dates(ev, ical.PropExceptionDates) {
		set.ExDate(t)
	}
	for _, t := range dates(ev, ical.PropRecurrenceDates) {
		set.RDate(t)
	}
	var out []time.Time
	next := set.Iterator()
	for steps := 0; steps < maxSteps && len(out) < maxOccurrences; steps++ {
		t, ok := next()
		if !ok || !t.Before(to) {
			break
		}
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out, nil
}

// dates reads a date list property, each value of each line (EXDATE may
// list several, comma-separated), in its TZID.
func dates(ev ical.Event, name string) []time.Time {
	var out []time.Time
	for _, p := range ev.Props.Values(name) {
		for _, v := range strings.Split(p.Value, ",") {
			one := p
			one.Value = strings.TrimSpace(v)
			if t, err := one.DateTime(time.UTC); err == nil {
				out = append(out, t)
			}
		}
	}
	return out
}

// Calendar is an iCalendar feed (as Fedora's calendar serves them), read
// again every Refresh with conditional requests (its client's).
type Calendar struct {
	URL     string
	HTTP    *http.Client
	Refresh time.Duration
	Now     func() time.Time

	mu     sync.Mutex
	cal    *ical.Calendar
	readAt time.Time
}

// Between lists the feed's meetings that start in [from, to).
func (c *Calendar) Between(ctx context.Context, from, to time.Time) ([]Occurrence, error) {
	cal, err := c.read(ctx)
	if err != nil {
		return nil, err
	}
	return Expand(cal, from, to), nil
}

// Next is the next meeting on the calendar, for !meetings.
func (c *Calendar) Next(ctx context.Context) (Occurrence, bool) {
	now := c.Now()
	next, err := c.Between(ctx, now, now.Add(60*24*time.Hour))
	if err != nil || len(next) == 0 {
		return Occurrence{}, false
	}
	return next[0], true
}

// read is the feed, read again when Refresh has passed.
func (c *Calendar) read(ctx context.Context) (*ical.Calendar, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	if c.cal != nil && now.Sub(c.readAt) < c.Refresh {
		return c.cal, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/calendar")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the calendar: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the calendar: %s answered %s", c.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFeedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the calendar: %w", err)
	}
	cal, err := ParseCalendar(body)
	if err != nil {
		return nil, err
	}
	c.cal, c.readAt = cal, now
	return cal, nil
}

// Reminders posts a reminder in the rooms before each meeting of the
// calendar.
type Reminders struct {
	Calendar *Calendar
	Poster   interface {
		Post(ctx context.Context, key, room string, r bot.Reply) error
	}
	Rooms  func() []string
	Before time.Duration // how long before the start
	Log    zerolog.Logger
	Now    func() time.Time

	state health.State
}

// Health says how reading the calendar goes, for !status.
func (r *Reminders) Health() health.Report { return r.state.Report("meeting calendar", "not read yet") }

// Run checks every 30 seconds until ctx ends.
func (r *Reminders) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Meeting reminders", Interval: 30 * time.Second, Retry: backoff.Policy{Min: 30 * time.Second, Max: 15 * time.Minute},
		Health: &r.state, Now: r.Now, Log: r.Log,
		Round: func(ctx context.Context) (string, error) { return "reminding of the calendar's meetings", r.Check(ctx) },
	}
	return loop.Run(ctx)
}

// Check reminds of the meetings that start within Before. A reminder's
// key is the occurrence's, so each is posted once, even across restarts.
func (r *Reminders) Check(ctx context.Context) error {
	now := r.Now()
	soon, err := r.Calendar.Between(ctx, now, now.Add(r.Before+time.Second))
	if err != nil {
		return err
	}
	for _, o := range soon {
		for _, room := range r.Rooms() {
			key := fmt.Sprintf("meeting-reminder:%s:%d:%s", o.UID, o.Start.Unix(), room)
			if err := r.Poster.Post(ctx, key, room, RenderReminder(o, now)); err != nil {
				return err
			}
		}
	}
	return nil
}

// RenderReminder is the room's reminder of a meeting.
func RenderReminder(o Occurrence, now time.Time) bot.Reply {
	m := new(bot.Msg).Text("📅 ").Bold(o.Summary).Textf(" starts %s, at %s", say.In(now, o.Start), o.Start.UTC().Format("15:04 UTC"))
	if o.Agenda != "" {
		m.Text(" — ").Link("agenda", o.Agenda)
	}
	return m.Reply()
}
