package meetings

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

// Store keeps meetings and their lines.
type Store interface {
	StartMeeting(ctx context.Context, m store.Meeting) (bool, error)
	RunningMeeting(ctx context.Context, room string) (store.Meeting, bool, error)
	Meeting(ctx context.Context, id string) (store.Meeting, bool, error)
	Meetings(ctx context.Context, room string, limit int) ([]store.Meeting, error)
	MeetingsToFinish(ctx context.Context) ([]store.Meeting, error)
	EndMeeting(ctx context.Context, id, name, by, note string, at time.Time) (bool, error)
	MeetingPublished(ctx context.Context, id string) error
	AddMeetingLine(ctx context.Context, l store.MeetingLine) error
	EditMeetingLine(ctx context.Context, eventID, body string) (bool, error)
	RedactMeetingLine(ctx context.Context, eventID string) (bool, error)
	MeetingLines(ctx context.Context, meetingID string) ([]store.MeetingLine, error)
}

// Recorder logs meetings: it sees every message, edit and redaction in
// the rooms (a bot.Observer), starts a meeting at !startmeeting from a
// member at PowerLevel or above, logs every line while it runs (threads
// too), takes edits and redactions into the log, and ends it at
// !endmeeting from a chair. It runs where the bot syncs: on the leader.
type Recorder struct {
	Store      Store
	Prefix     string // the command prefix, "!"
	PowerLevel int    // to start a meeting, and be a chair without being named
	Log        zerolog.Logger
	Ended      func() // told when a meeting ends (the publisher wakes)

	mu      sync.Mutex
	refused map[string]string // start commands refused, by event id: why
}

// Observe implements bot.Observer.
func (r *Recorder) Observe(ctx context.Context, s bot.Seen) error {
	if s.Direct {
		return nil // meetings are held in rooms
	}
	switch s.Kind {
	case bot.SeenEdit:
		_, err := r.Store.EditMeetingLine(ctx, s.Target.String(), s.Body)
		return err
	case bot.SeenRedaction:
		_, err := r.Store.RedactMeetingLine(ctx, s.Target.String())
		return err
	}
	m, running, err := r.Store.RunningMeeting(ctx, s.RoomID.String())
	if err != nil {
		return err
	}
	name, rest, isCommand := command(s.Body, r.Prefix)
	if !running {
		if !isCommand || name != "startmeeting" {
			return nil
		}
		if m, running, err = r.start(ctx, s, rest); err != nil || !running {
			return err
		}
	}
	return r.log(ctx, m, s, isCommand, name)
}

// start begins a meeting when the sender may.
func (r *Recorder) start(ctx context.Context, s bot.Seen, name string) (store.Meeting, bool, error) {
	level, err := s.PowerLevel(ctx)
	if err != nil {
		r.refuse(s.EventID.String(), "I could not read the room's power levels: "+err.Error())
		return store.Meeting{}, false, nil
	}
	if level < r.PowerLevel {
		r.refuse(s.EventID.String(), fmt.Sprintf("starting a meeting here needs power level %d (yours is %d)", r.PowerLevel, level))
		return store.Meeting{}, false, nil
	}
	if name == "" {
		name = "Meeting"
	}
	m := store.Meeting{ID: s.EventID.String(), RoomID: s.RoomID.String(), Name: name, StartedBy: s.Sender.String(), StartedAt: s.At}
	if _, err := r.Store.StartMeeting(ctx, m); err != nil {
		return store.Meeting{}, false, err
	}
	r.Log.Info().Str("room_id", m.RoomID).Str("meeting", m.ID).Str("name", name).Msg("Meeting started")
	return m, true, nil
}

// log records a line, and ends the meeting at an !endmeeting the minutes
// take.
func (r *Recorder) log(ctx context.Context, m store.Meeting, s bot.Seen, isCommand bool, name string) error {
	line := store.MeetingLine{MeetingID: m.ID, EventID: s.EventID.String(), Sender: s.Sender.String(), SaidAt: s.At,
		Body: s.Body, Thread: s.ThreadRoot.String()}
	for _, u := range s.Mentions {
		line.Mentions = append(line.Mentions, u.String())
	}
	if isCommand {
		if level, err := s.PowerLevel(ctx); err == nil && level >= r.PowerLevel {
			line.Chair = true
		}
	}
	if err := r.Store.AddMeetingLine(ctx, line); err != nil {
		return err
	}
	if name != "endmeeting" {
		return nil
	}
	min, err := r.minutes(ctx, m)
	if err != nil || !min.Ended {
		return err
	}
	if _, err := r.Store.EndMeeting(ctx, m.ID, min.Name, min.EndedBy, "", s.At); err != nil {
		return err
	}
	r.Log.Info().Str("room_id", m.RoomID).Str("meeting", m.ID).Msg("Meeting ended")
	if r.Ended != nil {
		r.Ended()
	}
	return nil
}

func (r *Recorder) minutes(ctx context.Context, m store.Meeting) (*Minutes, error) {
	lines, err := r.Store.MeetingLines(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	return Fold(m, lines, r.Prefix), nil
}

// refuse keeps why a start was refused, for the command's answer.
func (r *Recorder) refuse(eventID, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refused == nil || len(r.refused) > 100 {
		r.refused = map[string]string{}
	}
	r.refused[eventID] = why
}

func (r *Recorder) whyRefused(eventID string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	why, ok := r.refused[eventID]
	return why, ok
}
