package deploys

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/roomscope"
)

// setting is the per-room setting that turns deploy announcements on or
// off (!deploys on|off), laid over the rooms the config names.
const setting = "deploys"

// Rooms are where deploys are announced now: the config's rooms
// (prodhash.rooms) unless a room turned announcements off in chat, and
// the rooms that turned them on.
func Rooms(settings *roomscope.Settings, configured []string) func() []string {
	return func() []string { return settings.RoomsOn(configured, setting) }
}

// Toggle is !deploys on|off: the room's setting, said by whom.
func Toggle(settings *roomscope.Settings, now func() time.Time) RoomToggle {
	return func(ctx context.Context, room id.RoomID, on bool, by id.UserID) error {
		value := "off"
		if on {
			value = "on"
		}
		return settings.Set(ctx, room, setting, value, by, now())
	}
}
