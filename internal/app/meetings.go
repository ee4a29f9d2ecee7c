package app

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/handlers/meetings"
	"github.com/osbuild/ibbot/internal/httpcache"
	"github.com/osbuild/ibbot/internal/store"
)

// meetingParts are the meetings' parts built before the bot: the recorder
// it hands every event to, the commands, the calendar; the publisher and
// the reminders, which post, start with the rest (startMeetings).
type meetingParts struct {
	recorder *meetings.Recorder
	commands *meetings.Commands
	calendar *meetings.Calendar // nil: no calendar
	pages    *meetings.Pages
	ended    chan struct{} // the recorder tells the publisher
}

func newMeetingParts(cfg *config.Config, st *store.DB, log zerolog.Logger, now func() time.Time) *meetingParts {
	if !cfg.Meetings.Enabled {
		return nil
	}
	m := &meetingParts{ended: make(chan struct{}, 1)}
	m.recorder = &meetings.Recorder{Store: st, Prefix: cfg.Matrix.CommandPrefix, PowerLevel: cfg.Meetings.PowerLevel,
		Log: log.With().Str("component", "meetings").Logger(), Ended: func() {
			select {
			case m.ended <- struct{}{}:
			default:
			}
		}}
	var next func(context.Context) (meetings.Occurrence, bool)
	if cfg.Meetings.Calendar != "" {
		m.calendar = &meetings.Calendar{URL: cfg.Meetings.Calendar, HTTP: &http.Client{Timeout: 30 * time.Second, Transport: httpcache.New(nil, 4)},
			Refresh: cfg.Meetings.Refresh, Now: now}
		next = m.calendar.Next
	}
	m.commands = &meetings.Commands{Store: st, Recorder: m.recorder, Pages: meetingPages(cfg.Status), Next: next, Now: now}
	if cfg.Status.Listen != "" {
		m.pages = &meetings.Pages{Store: st, Prefix: cfg.Matrix.CommandPrefix, Title: "Image Builder"}
	}
	return m
}

// meetingPages is the meetings' address on the status page; "" when the
// page has no public address.
func meetingPages(cfg config.Status) string {
	if cfg.Listen == "" || cfg.PublicURL == "" {
		return ""
	}
	return strings.TrimSuffix(cfg.PublicURL, "/") + "/meetings/"
}

// newMailSender is the mail sender when mail.smtp is set, else nil.
func newMailSender(cfg config.Mail, st *store.DB, log zerolog.Logger, now func() time.Time) *mail.Sender {
	if cfg.SMTP.Address == "" {
		return nil
	}
	return &mail.Sender{Config: cfg.SMTP, OAuth2: cfg.SMTPOAuth2(), Store: st, Echoes: st, KV: st,
		Log: log.With().Str("component", "smtp").Logger(), Now: now}
}

// replier answers list threads from chat, when people are allowed to.
func replier(cfg config.Mail, st *store.DB, sender *mail.Sender, lists *mail.Lists, now func() time.Time) *mail.Replier {
	if sender == nil || len(cfg.ChatReplies.Allow) == 0 {
		return nil
	}
	return &mail.Replier{Store: st, Letters: sender, Lists: lists, Config: cfg.ChatReplies, Now: now}
}

// startMeetings runs, on the leader, the mail sender (when mail.smtp is
// set), the publisher of minutes and the calendar's reminders.
func startMeetings(s *services, cfg *config.Config, m *meetingParts) {
	sender := s.mailOut
	if sender != nil {
		s.board.Add(sender)
		s.afterReady(sender.Run)
	}
	if m == nil {
		return
	}
	log := s.log.With().Str("component", "meetings").Logger()
	p := &meetings.Publisher{Store: s.store, Poster: s.bot, Prefix: cfg.Matrix.CommandPrefix, Pages: m.commands.Pages,
		MaxDuration: cfg.Meetings.MaxDuration, MinutesTo: cfg.Meetings.MinutesTo, Lists: s.routes.lists, Wake: m.ended, Log: log, Now: s.now,
		Mailer: mailer(sender)}
	s.board.Add(p)
	s.afterReady(p.Run)
	if m.calendar != nil {
		rooms := cfg.Meetings.ReminderRooms(cfg.Matrix)
		r := &meetings.Reminders{Calendar: m.calendar, Poster: s.bot, Rooms: func() []string { return rooms },
			Before: cfg.Meetings.RemindBefore, Log: log, Now: s.now}
		s.board.Add(r)
		s.afterReady(r.Run)
	}
}

// observers are what the bot hands every event to.
func (m *meetingParts) observers() []bot.Observer {
	if m == nil {
		return nil
	}
	return []bot.Observer{m.recorder}
}

// mailer is the sender as the publisher takes it: nil when mail is not
// sent (a nil *mail.Sender in the interface would not be nil).
func mailer(sender *mail.Sender) meetings.Mailer {
	if sender == nil {
		return nil
	}
	return sender
}
