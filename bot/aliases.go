package bot

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

// aliases turns room aliases into room ids, remembering each answer for
// the run (an alias rarely moves; a restart asks again). Room ids pass
// through unchanged.
type aliases struct {
	resolve func(ctx context.Context, alias id.RoomAlias) (*mautrix.RespAliasResolve, error)
	ids     sync.Map // alias -> id.RoomID
}

func (a *aliases) roomID(ctx context.Context, room string) (id.RoomID, error) {
	if !strings.HasPrefix(room, "#") {
		return id.RoomID(room), nil
	}
	if v, ok := a.ids.Load(room); ok {
		return v.(id.RoomID), nil
	}
	resp, err := a.resolve(ctx, id.RoomAlias(room))
	if err != nil {
		return "", fmt.Errorf("resolving %s: %w", room, err)
	}
	a.remember(room, resp.RoomID)
	return resp.RoomID, nil
}

// remember records what an alias means (learnt by joining it).
func (a *aliases) remember(alias string, room id.RoomID) {
	if strings.HasPrefix(alias, "#") {
		a.ids.Store(alias, room)
	}
}
