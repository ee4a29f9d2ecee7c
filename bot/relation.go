package bot

import (
	"context"
	"encoding/json"
	"html"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/store"
)

// withRelation ties the message to the event its target key was posted
// as: an edit (m.replace) or a line in its thread. When the target never
// made it to the room, the message goes out on its own, unchanged.
func (s *sender) withRelation(ctx context.Context, msg store.Outgoing) (content []byte, carried bool, err error) {
	if msg.Relation == "" {
		return msg.Content, false, nil
	}
	target, targetRoom, err := s.queue.Anchor(ctx, msg.TargetKey)
	if err != nil || target == "" {
		return msg.Content, false, err
	}
	var c event.MessageEventContent
	if err := json.Unmarshal(msg.Content, &c); err != nil {
		return nil, false, err
	}
	switch {
	case targetRoom != "" && targetRoom != msg.RoomID:
		// The message is in a room that was upgraded since: no edit or
		// thread reaches across rooms, so this goes out as a message of
		// its own, linking back, and stands for the earlier one from then
		// on (later edits and thread lines follow it).
		carryOver(&c, id.RoomID(targetRoom), id.EventID(target))
		carried = true
	case msg.Relation == RelReplace:
		// Clients show the new content in place of the old; those without
		// edits show the "* " fallback (cut short for long messages).
		c.RelatesTo = nil
		c.SetEdit(id.EventID(target))
	case msg.Relation == RelThread:
		c.RelatesTo = (&event.RelatesTo{}).SetThread(id.EventID(target), id.EventID(target))
	}
	content, err = json.Marshal(&c)
	return content, carried, err
}

// carryOver turns content into a message of its own that links back to
// the earlier one, in the room before its upgrade.
func carryOver(c *event.MessageEventContent, room id.RoomID, earlier id.EventID) {
	link := room.EventURI(earlier, serverOf(room)).MatrixToURL()
	c.RelatesTo = nil
	c.Body += "\n(continues " + link + ", in this room before its upgrade)"
	if c.Format == event.FormatHTML {
		c.FormattedBody += `<br>(continues <a href="` + html.EscapeString(link) + `">an earlier message</a>, in this room before its upgrade)`
	}
}

// carriedOver makes the message just sent stand for its target key, so
// later edits and thread lines of the item follow it into the new room.
func (s *sender) carriedOver(ctx context.Context, log zerolog.Logger, msg store.Outgoing, evt id.EventID) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.queue.Reanchor(c, msg.TargetKey, evt.String(), msg.RoomID, s.now()); err != nil {
		log.Error().Err(err).Msg("Recording the carried-over message failed; the next change is carried over again")
	}
}

// Relations a queued message can have to an earlier one.
const (
	RelReplace = "replace"
	RelThread  = "thread"
)
