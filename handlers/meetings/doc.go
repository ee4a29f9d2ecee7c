// Package meetings is the meetings source: public meetings held in the
// project's rooms, Fedora's way (!startmeeting … !endmeeting, MeetBot's
// items), with minutes in the room, on the status page and on the list,
// and reminders from an iCalendar feed.
//
// It is laid out as every source is (see package handlers), its route
// being the room a meeting is held in:
//
//   - recorder.go: ingest: every message, edit and redaction the bot sees
//     (a bot.Observer), a meeting started by a member at
//     meetings.power_level, its lines kept in the store as said and as
//     edited, ended by a chair;
//   - fold.go: state: the minutes are a function of the lines (topics
//     and their items, agreed, actions per person, links, chairs, people,
//     and what each command did), so an edit or a redaction changes them
//     and a restart loses nothing;
//   - publisher.go: announcing: the minutes in the room with the log
//     attached, mailed to the list, a meeting left open ended;
//   - calendar.go: the reminders of an iCalendar feed (RRULE, EXDATE,
//     time zones, through go-ical and rrule-go);
//   - render.go, pages.go: its messages, the log, the mail and the
//     status page's /meetings/;
//   - commands.go: the meeting commands and !meetings.
package meetings
