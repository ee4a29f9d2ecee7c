package bot

import (
	"context"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// SeenKind is what a person did in a room.
type SeenKind int

// The kinds of events an Observer sees.
const (
	SeenMessage   SeenKind = iota // a message (a command too), in a thread or not
	SeenEdit                      // a message replaced: Body is the new text
	SeenRedaction                 // a message removed
)

// Seen is a person's event in a room, as an Observer sees it.
type Seen struct {
	Kind       SeenKind
	RoomID     id.RoomID
	EventID    id.EventID
	Sender     id.UserID
	Body       string      // a message's text; an edit's new text
	Target     id.EventID  // the message an edit or a redaction changes
	ThreadRoot id.EventID  // set for a message in a thread
	Mentions   []id.UserID // whom a message mentions (m.mentions)
	At         time.Time   // when the homeserver received it
	Direct     bool        // in a direct chat with the bot
	// PowerLevel asks the room for the sender's power level (a request:
	// ask only when it matters).
	PowerLevel func(ctx context.Context) (int, error)
}

// Observer sees every person's message, edit and redaction in the bot's
// rooms (decrypted in encrypted ones), not the bot's own. It is called on
// the sync loop before the commands of the same batch run, so a command's
// handler finds its message observed. A batch replayed after a crash is
// seen again: an Observer is idempotent by EventID. An error is logged.
type Observer interface {
	Observe(ctx context.Context, s Seen) error
}

// observe hands evt to the observers when it is a person's message, edit
// or redaction newer than the bot's first start.
func (b *Bot) observe(ctx context.Context, evt *event.Event, history bool) {
	if len(b.observers) == 0 || history || time.UnixMilli(evt.Timestamp).Before(b.firstStart) {
		return
	}
	s, ok := seenOf(evt)
	if !ok {
		return
	}
	s.Direct = b.directs.is(ctx, evt.RoomID)
	s.PowerLevel = func(ctx context.Context) (int, error) { return b.powerLevel(ctx, evt.RoomID, evt.Sender) }
	for _, o := range b.observers {
		if err := o.Observe(ctx, s); err != nil {
			b.log.Error().Err(err).Str("event_id", evt.ID.String()).Msg("An observer failed on an event")
		}
	}
}

// seenOf reads a message, an edit or a redaction.
func seenOf(evt *event.Event) (Seen, bool) {
	s := Seen{RoomID: evt.RoomID, EventID: evt.ID, Sender: evt.Sender, At: time.UnixMilli(evt.Timestamp)}
	switch evt.Type {
	case event.EventRedaction:
		s.Kind, s.Target = SeenRedaction, evt.Redacts
		if s.Target == "" { // room version 11 keeps it in the content
			_ = evt.Content.ParseRaw(evt.Type)
			if r := evt.Content.AsRedaction(); r != nil {
				s.Target = r.Redacts
			}
		}
		return s, s.Target != ""
	case event.EventMessage:
		_ = evt.Content.ParseRaw(evt.Type)
		msg := evt.Content.AsMessage()
		if target := msg.RelatesTo.GetReplaceID(); target != "" {
			s.Kind, s.Target = SeenEdit, target
			if msg.NewContent != nil {
				s.Body = msg.NewContent.Body
			}
			return s, true
		}
		s.Body, s.ThreadRoot = msg.Body, msg.RelatesTo.GetThreadParent()
		if msg.Mentions != nil {
			s.Mentions = msg.Mentions.UserIDs
		}
		return s, true
	}
	return Seen{}, false
}
