package config

// The meetings: section: meetings held in rooms, their minutes, and the
// calendar's reminders.

import (
	"net/mail"
	"time"
)

// Meetings configures the meeting commands.
type Meetings struct {
	Enabled      bool          `yaml:"enabled"`       // default true
	PowerLevel   int           `yaml:"power_level"`   // to start a meeting, and chair one unnamed
	MaxDuration  time.Duration `yaml:"max_duration"`  // a meeting left open this long is ended
	MinutesTo    string        `yaml:"minutes_to"`    // the list's address; needs mail.smtp
	Calendar     string        `yaml:"calendar"`      // an iCalendar feed; "": no reminders
	RemindBefore time.Duration `yaml:"remind_before"` // how long before a meeting the room is reminded
	Refresh      time.Duration `yaml:"refresh"`       // how often the calendar is read again
	Rooms        []string      `yaml:"rooms"`         // where reminders go; default matrix.rooms
}

func (c *Config) checkMeetings(ch *checker) {
	m := &c.Meetings
	if !m.Enabled {
		return
	}
	ch.ints("meetings.power_level", m.PowerLevel, 0, 100, "")
	ch.durations("meetings.max_duration", m.MaxDuration, 10*time.Minute, 24*time.Hour, "never")
	if m.MinutesTo != "" {
		if _, err := mail.ParseAddress(m.MinutesTo); err != nil {
			ch.bad("meetings.minutes_to", "%q is not an address: the list's, like image-builder@lists.example.org", m.MinutesTo)
		}
		if c.Mail.SMTP.Address == "" {
			ch.bad("meetings.minutes_to", "needs mail.smtp, the server the minutes are sent through")
		}
	}
	if m.Calendar == "" {
		return
	}
	if !isHTTPURL(m.Calendar) {
		ch.bad("meetings.calendar", "%q is not an http(s) URL: an iCalendar feed, like Fedora's calendar serves", m.Calendar)
	}
	ch.durations("meetings.remind_before", m.RemindBefore, time.Minute, 24*time.Hour, "")
	ch.durations("meetings.refresh", m.Refresh, time.Minute, 24*time.Hour, "")
	ch.rooms("meetings.rooms", m.Rooms, false)
	if len(m.Rooms) == 0 && len(c.Matrix.Rooms) == 0 {
		ch.bad("meetings.rooms", "name the rooms the calendar's reminders go to (or matrix.rooms)")
	}
}

// ReminderRooms are where the calendar's reminders go.
func (m Meetings) ReminderRooms(matrix Matrix) []string {
	if len(m.Rooms) > 0 {
		return m.Rooms
	}
	return matrix.Rooms
}
