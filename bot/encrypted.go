package bot

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// encryptionNotes handles rooms the bot cannot read (encryption is off or
// this build has none): the operator is warned in the log once per room and run, and
// the room is told once ever, so silence does not look like a broken bot.
type encryptionNotes struct {
	kv      KV
	enqueue func(ctx context.Context, key string, room id.RoomID, content *event.MessageEventContent) error
	now     func() time.Time
	log     zerolog.Logger

	warned sync.Map // rooms warned about in this run
}

// warn logs, once per room and run, that room is encrypted.
func (n *encryptionNotes) warn(room id.RoomID) {
	if _, seen := n.warned.LoadOrStore(room, true); !seen {
		n.log.Warn().Str("room_id", room.String()).
			Msg("Room is end-to-end encrypted and encryption is off; ibbot cannot read it and will not answer there")
	}
}

// explain tells a room, once ever, that the bot cannot read its messages:
// someone there just wrote an encrypted one, perhaps a command. The notice
// itself goes out unencrypted, which every client shows.
func (n *encryptionNotes) explain(ctx context.Context, room id.RoomID) {
	n.warn(room)
	key := "encrypted-room-notice:" + room.String()
	if _, told, err := n.kv.Get(ctx, key); err != nil || told {
		return
	}
	reply := TextReply("This room is end-to-end encrypted and my encryption is turned off, so I cannot read " +
		"messages here or answer commands. Ask me in an unencrypted room, or ask my operator to turn encryption on.")
	if err := n.enqueue(context.WithoutCancel(ctx), key, room, noticeContent(reply, "", "")); err != nil {
		n.log.Error().Err(err).Str("room_id", room.String()).Msg("Queueing the note about encryption failed")
		return
	}
	if err := n.kv.Put(context.WithoutCancel(ctx), key, n.now().UTC().Format(time.RFC3339)); err != nil {
		n.log.Error().Err(err).Msg("Recording the note about encryption failed")
	}
}
