package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

// encryptionNotes handles rooms the bot cannot encrypt in (encryption is
// off, or this build has none): nothing is ever sent into them, since a
// cleartext message in an encrypted room is what its members chose to
// avoid. Their messages wait in the queue, the room set aside and named in
// !status with the reason (see sender), and the operator is warned in the
// log once per room and run.
type encryptionNotes struct {
	log zerolog.Logger
	// state reads a room's m.room.encryption (nil: the room has none).
	state func(ctx context.Context, room id.RoomID) (bool, error)
	// why is the reason the bot cannot encrypt, said in !status.
	why string

	warned    sync.Map // rooms warned about in this run
	encrypted sync.Map // room -> bool, as the sync or the homeserver said
}

// ErrCannotEncrypt is a send refused before it was made: the room is
// end-to-end encrypted and the bot cannot encrypt.
var ErrCannotEncrypt = errors.New("the room is end-to-end encrypted and this bot cannot encrypt")

// warn logs, once per room and run, that room is encrypted.
func (n *encryptionNotes) warn(room id.RoomID) {
	n.encrypted.Store(room, true)
	if _, seen := n.warned.LoadOrStore(room, true); !seen {
		n.log.Warn().Str("room_id", room.String()).Str("why", n.why).
			Msg("Room is end-to-end encrypted and this bot cannot encrypt; it reads nothing there and sends nothing there (its messages wait)")
	}
}

// check refuses a send into an encrypted room, asking the homeserver
// about a room the sync has not shown encrypted.
func (n *encryptionNotes) check(ctx context.Context, room id.RoomID) error {
	known, ok := n.encrypted.Load(room)
	if !ok {
		encrypted, err := n.state(ctx, room)
		if err != nil {
			return err
		}
		known, _ = n.encrypted.LoadOrStore(room, encrypted)
	}
	if known.(bool) {
		n.warn(room)
		return fmt.Errorf("%w (%s)", ErrCannotEncrypt, n.why)
	}
	return nil
}
