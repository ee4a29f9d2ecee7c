package meetings

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/store"
)

// Done is the answer to a meeting command that was taken: a reaction, so
// the room stays readable.
const Done = "✅"

// Commands answers the meeting commands. The Recorder has logged the
// command's line (and started or ended the meeting) before its handler
// runs; a handler reads the minutes to say what the line did.
type Commands struct {
	Store    Store
	Recorder *Recorder
	// Pages is the status page's address of the meetings, ending in
	// "/meetings/"; "" when there is no page.
	Pages string
	Next  func(ctx context.Context) (Occurrence, bool) // the next scheduled meeting; nil: no calendar
	Now   func() time.Time
}

// All are the meeting commands, for the command table.
func (c *Commands) All() []bot.Command {
	p := c.Recorder.Prefix
	item := func(name, args, summary string) bot.Command {
		return bot.Command{Name: name, Args: args, MaxArgs: -1, Summary: summary, Run: c.item, Under: "startmeeting"}
	}
	return []bot.Command{
		{Name: "startmeeting", Args: "[NAME]", MaxArgs: -1, Run: c.start, Example: "startmeeting Image Builder weekly",
			Summary: fmt.Sprintf("starts a meeting in this room (power level %d): everything said is logged until %sendmeeting", c.Recorder.PowerLevel, p),
			Then:    "in the meeting"},
		{Name: "endmeeting", Run: c.end, Summary: "ends the meeting (chairs); the minutes and the log follow", Under: "startmeeting"},
		item("topic", "TEXT", "sets the meeting's current topic (chairs)"),
		item("info", "TEXT", "notes something for the minutes"),
		item("action", "[@user…] TEXT", "an action item, for the people named first (or mentioned)"),
		{Name: "agreed", Aliases: []string{"agree"}, Args: "TEXT", MaxArgs: -1, Run: c.item, Summary: "records an agreement (chairs)",
			Under: "startmeeting"},
		item("idea", "TEXT", "records an idea"),
		item("link", "URL [TEXT]", "records a link"),
		item("undo", "", "takes back the minutes' last item (chairs)"),
		item("meetingname", "NAME", "renames the meeting (chairs)"),
		item("chair", "@user…", "makes people chairs of the meeting (chairs)"),
		item("unchair", "@user…", "takes the chair from people (chairs)"),
		{Name: "meetings", Run: c.list, Summary: "the meeting that runs here, the last ones with their minutes, and the next one"},
	}
}

func (c *Commands) start(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if req.Direct {
		return inRooms(), nil
	}
	m, running, err := c.Store.RunningMeeting(ctx, req.RoomID.String())
	if err != nil {
		return bot.Reply{}, err
	}
	switch {
	case running && m.ID == req.EventID.String():
		msg := new(bot.Msg).Text("🗓 Meeting started: ").Bold(m.Name).Textf(" (chair: %s). ", m.StartedBy).
			Textf("Everything said here is logged until %sendmeeting; the minutes will be posted here", req.Prefix)
		if c.Pages != "" {
			msg.Text(" and on ").Link("the meetings page", c.Pages)
		}
		msg.Textf(". Commands: %[1]stopic, %[1]sinfo, %[1]saction, %[1]sagreed, %[1]sidea, %[1]slink, %[1]sundo, %[1]schair.", req.Prefix)
		return msg.Reply(), nil
	case running:
		return bot.TextReply("A meeting runs here already: %s, started by %s %s.", m.Name, m.StartedBy, say.Ago(c.Now(), m.StartedAt)), nil
	}
	if why, ok := c.Recorder.whyRefused(req.EventID.String()); ok {
		return bot.TextReply("I did not start a meeting: %s.", why), nil
	}
	return bot.TextReply("I did not start a meeting (its line was not seen); please try again."), nil
}

func (c *Commands) end(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if req.Direct {
		return inRooms(), nil
	}
	m, running, err := c.Store.RunningMeeting(ctx, req.RoomID.String())
	if err != nil {
		return bot.Reply{}, err
	}
	if running {
		return c.outcome(ctx, m, req)
	}
	// The recorder ended the meeting at this line before the command ran.
	last, err := c.Store.Meetings(ctx, req.RoomID.String(), 1)
	if err != nil || len(last) == 0 {
		return noMeeting(req), err
	}
	lines, err := c.Store.MeetingLines(ctx, last[0].ID)
	if err != nil {
		return bot.Reply{}, err
	}
	if !slices.ContainsFunc(lines, func(l store.MeetingLine) bool { return l.EventID == req.EventID.String() }) {
		return noMeeting(req), nil
	}
	return bot.Reply{React: Done}, nil
}

// item answers a command that changes the minutes: a reaction when it
// was taken, else why not.
func (c *Commands) item(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if req.Direct {
		return inRooms(), nil
	}
	m, running, err := c.Store.RunningMeeting(ctx, req.RoomID.String())
	if err != nil || !running {
		return noMeeting(req), err
	}
	return c.outcome(ctx, m, req)
}

func (c *Commands) outcome(ctx context.Context, m store.Meeting, req bot.Request) (bot.Reply, error) {
	lines, err := c.Store.MeetingLines(ctx, m.ID)
	if err != nil {
		return bot.Reply{}, err
	}
	out, ok := Fold(m, lines, c.Recorder.Prefix).Outcomes[req.EventID.String()]
	switch {
	case !ok:
		return bot.TextReply("That line is not in the meeting's log (was it edited or removed?)."), nil
	case out.OK:
		return bot.Reply{React: Done}, nil
	}
	return bot.TextReply("Not recorded: %s.", out.Why), nil
}

func (c *Commands) list(ctx context.Context, req bot.Request) (bot.Reply, error) {
	room := req.RoomID.String()
	if req.Direct {
		room = ""
	}
	msg := new(bot.Msg)
	if m, running, err := c.Store.RunningMeeting(ctx, req.RoomID.String()); err != nil {
		return bot.Reply{}, err
	} else if running && !req.Direct {
		msg.Text("🗓 Now: ").Bold(m.Name).Textf(", since %s (started by %s)", say.Ago(c.Now(), m.StartedAt), m.StartedBy).Line()
	}
	last, err := c.Store.Meetings(ctx, room, 5)
	if err != nil {
		return bot.Reply{}, err
	}
	if len(last) == 0 {
		msg.Text("No meeting has been held here yet.")
	}
	for i, m := range last {
		if i > 0 {
			msg.Line()
		}
		msg.Text("• ")
		if c.Pages != "" {
			msg.Link(m.Name, c.Pages+Slug(m)+"/")
		} else {
			msg.Text(m.Name)
		}
		msg.Textf(", %s %s–%s UTC", m.StartedAt.UTC().Format("Mon 2 Jan 2006"), m.StartedAt.UTC().Format("15:04"), m.EndedAt.UTC().Format("15:04"))
	}
	if c.Next != nil {
		if next, ok := c.Next(ctx); ok {
			msg.Line().Text("Next: ").Bold(next.Summary).Textf(", %s (%s)", next.Start.UTC().Format("Mon 2 Jan 15:04 UTC"), say.In(c.Now(), next.Start))
			if next.Agenda != "" {
				msg.Text(" — ").Link("agenda", next.Agenda)
			}
		}
	}
	return msg.Reply(), nil
}

func inRooms() bot.Reply {
	return bot.TextReply("Meetings are held in rooms, where everyone can follow them: start one there.")
}

func noMeeting(req bot.Request) bot.Reply {
	return bot.TextReply("No meeting runs here; a room moderator starts one with %sstartmeeting NAME.", req.Prefix)
}
