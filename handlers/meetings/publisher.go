package meetings

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/backoff"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/worker"
)

// Mailer sends the minutes to the list.
type Mailer interface {
	From() string
	Queue(ctx context.Context, l mail.Letter, rooms []string) error
}

// Publisher puts a meeting's minutes out once it ended: in the room (the
// minutes, the log attached), to the list when MinutesTo is set; and ends
// a meeting left open longer than MaxDuration. The status page reads the
// minutes from the store. It runs on the leader.
type Publisher struct {
	Store  Store
	Poster interface {
		PostRoot(ctx context.Context, key, room string, r bot.Reply) error
	}
	Prefix      string
	Pages       string // the meetings' address on the status page, ending in "/meetings/"; "" none
	MaxDuration time.Duration
	MinutesTo   string          // the list's address; "" mails nothing
	Mailer      Mailer          // nil: no mail sending
	Lists       *mail.Lists     // the mail relay's rooms, so the list's echo of the minutes is known
	Wake        <-chan struct{} // a meeting ended (the recorder says so); nil: the minute's look only
	Log         zerolog.Logger
	Now         func() time.Time

	state health.State
}

// Health says how publishing goes, for !status.
func (p *Publisher) Health() health.Report {
	return p.state.Report("meeting minutes", "no meeting yet")
}

// Run publishes as meetings end, and looks every minute (for meetings
// left open) until ctx ends.
func (p *Publisher) Run(ctx context.Context) error {
	loop := &worker.Loop{
		Name: "Meeting minutes", Interval: time.Minute, Retry: backoff.Policy{Min: 5 * time.Second, Max: 5 * time.Minute},
		Wake: p.Wake, Health: &p.state, Now: p.Now, Log: p.Log,
		Round: func(ctx context.Context) (string, error) { return "publishing the minutes of meetings", p.Step(ctx) },
	}
	return loop.Run(ctx)
}

// Step ends the meetings left open too long and publishes those ended.
func (p *Publisher) Step(ctx context.Context) error {
	todo, err := p.Store.MeetingsToFinish(ctx)
	if err != nil {
		return err
	}
	for _, m := range todo {
		if m.EndedAt.IsZero() {
			if p.MaxDuration <= 0 || p.Now().Sub(m.StartedAt) < p.MaxDuration {
				continue
			}
			if err := p.endLeftOpen(ctx, m.ID); err != nil {
				return err
			}
			if m, _, err = p.Store.Meeting(ctx, m.ID); err != nil {
				return err
			}
		}
		if err := p.publish(ctx, m); err != nil {
			return fmt.Errorf("meeting %s: %w", m.ID, err)
		}
	}
	return nil
}

func (p *Publisher) endLeftOpen(ctx context.Context, id string) error {
	m, _, err := p.Store.Meeting(ctx, id)
	if err != nil {
		return err
	}
	lines, err := p.Store.MeetingLines(ctx, id)
	if err != nil {
		return err
	}
	note := fmt.Sprintf("The meeting was ended by ibbot after %s: no chair said %sendmeeting.", p.MaxDuration, p.Prefix)
	_, err = p.Store.EndMeeting(ctx, id, Fold(m, lines, p.Prefix).Name, "", note, m.StartedAt.Add(p.MaxDuration))
	p.Log.Info().Str("meeting", id).Msg("Ended a meeting left open")
	return err
}

// publish posts the minutes (with the log) and queues their mail; each
// under a key of its own, so a retry repeats nothing.
func (p *Publisher) publish(ctx context.Context, m store.Meeting) error {
	lines, err := p.Store.MeetingLines(ctx, m.ID)
	if err != nil {
		return err
	}
	min := Fold(m, lines, p.Prefix)
	reply := RenderMinutes(min, p.Pages)
	reply.File = LogFile(min)
	room, key := "", "meeting:"+m.ID+":minutes"
	var msgID string
	if p.mails() {
		msgID = mail.MessageIDFor("meeting "+m.ID, p.Mailer.From())
		room, key = mail.Announcement(p.Lists, id.RoomID(m.RoomID), msgID)
	}
	if room == "" {
		room = m.RoomID
	}
	if err := p.Poster.PostRoot(ctx, key, room, reply); err != nil {
		return err
	}
	if p.mails() {
		letter := mail.Letter{To: []string{p.MinutesTo}, Subject: fmt.Sprintf("Minutes: %s (%s)", min.Name, m.StartedAt.UTC().Format("2006-01-02")),
			Body: MinutesText(min, p.Pages), MessageID: msgID, Headers: map[string]string{"X-Ibbot-Meeting": m.ID}}
		if err := p.Mailer.Queue(ctx, letter, []string{room}); err != nil {
			return err
		}
	}
	p.Log.Info().Str("meeting", m.ID).Str("name", min.Name).Bool("mailed", p.mails()).Msg("Minutes published")
	return p.Store.MeetingPublished(ctx, m.ID)
}

func (p *Publisher) mails() bool { return p.MinutesTo != "" && p.Mailer != nil }
