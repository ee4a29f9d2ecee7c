package bot

import (
	"context"
	"errors"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// roomJoiner is what invites need of Matrix.
type roomJoiner interface {
	JoinRoomByID(ctx context.Context, roomID id.RoomID) (*mautrix.RespJoinRoom, error)
	LeaveRoom(ctx context.Context, roomID id.RoomID, optionalReq ...*mautrix.ReqLeave) (*mautrix.RespLeaveRoom, error)
}

// invites joins rooms when the inviter is allowed (a user id, or anyone on
// an allowed server) and declines the others.
type invites struct {
	self   id.UserID
	allow  []string
	client roomJoiner
	// direct is told of each direct chat joined, joined of every room;
	// either may be nil.
	direct func(ctx context.Context, room id.RoomID) error
	joined func(ctx context.Context, room id.RoomID)
	// expected reports a room whose invite is accepted from anyone: the
	// replacement of a room the bot served; may be nil.
	expected func(room id.RoomID) bool
	log      zerolog.Logger
}

// handle acts on an invite to roomID, whose stripped state names the inviter.
func (v *invites) handle(ctx context.Context, roomID id.RoomID, state []*event.Event) {
	var inviter id.UserID
	direct := false
	for _, evt := range state {
		if evt.Type == event.StateMember && evt.GetStateKey() == v.self.String() {
			inviter = evt.Sender
			if err := evt.Content.ParseRaw(evt.Type); err == nil || errors.Is(err, event.ErrContentAlreadyParsed) {
				direct = evt.Content.AsMember().IsDirect
			}
		}
	}
	log := v.log.With().Str("room_id", roomID.String()).Str("inviter", inviter.String()).Logger()
	if !v.allowed(inviter) && (v.expected == nil || !v.expected(roomID)) {
		log.Info().Msg("Declining invite from a user not in matrix.invites.allow")
		if _, err := v.client.LeaveRoom(ctx, roomID, &mautrix.ReqLeave{Reason: "ibbot only accepts invites from its configured users"}); err != nil {
			log.Warn().Err(err).Msg("Declining the invite failed")
		}
		return
	}
	if _, err := v.client.JoinRoomByID(ctx, roomID); err != nil {
		log.Warn().Err(err).Msg("Joining after an invite failed")
		return
	}
	log.Info().Bool("direct", direct).Msg("Joined after an invite")
	if v.joined != nil {
		v.joined(ctx, roomID)
	}
	if direct && v.direct != nil {
		if err := v.direct(ctx, roomID); err != nil {
			log.Error().Err(err).Msg("Recording the direct chat failed; commands there need the prefix")
		}
	}
}

func (v *invites) allowed(inviter id.UserID) bool {
	for _, who := range v.allow {
		if id.UserID(who) == inviter || (!strings.HasPrefix(who, "@") && inviter.Homeserver() == who) {
			return true
		}
	}
	return false
}
