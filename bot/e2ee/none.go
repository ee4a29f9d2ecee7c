//go:build !goolm

package e2ee

import (
	"context"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Available reports whether this build can encrypt.
const Available = false

// E2EE is never made in a build without goolm.
type E2EE struct{}

// New says encryption is unavailable in this build.
func New(context.Context, Options) (*E2EE, error) { return nil, ErrUnavailable }

func (*E2EE) ProcessSync(context.Context, *mautrix.RespSync, string) {}

func (*E2EE) Decrypt(context.Context, *event.Event, time.Duration) (*event.Event, error) {
	return nil, ErrUnavailable
}

func (*E2EE) RequestAndWait(context.Context, *event.Event, time.Duration) (*event.Event, error) {
	return nil, ErrUnavailable
}

func (*E2EE) IsEncrypted(context.Context, id.RoomID) bool { return false }

func (*E2EE) PrepareRoom(context.Context, id.RoomID) error { return nil }

func (*E2EE) CrossSign(context.Context, string, string) (string, error) { return "", ErrUnavailable }

func (*E2EE) Status(context.Context) Status { return Status{Problem: ErrUnavailable.Error()} }

func (*E2EE) LearnRoomState(context.Context, id.RoomID) error { return nil }

// IsNoSession reports whether err is a room key that has not arrived.
func IsNoSession(error) bool { return false }

func (*E2EE) CrossSigned(context.Context, id.UserID, id.DeviceID) (bool, error) {
	return false, ErrUnavailable
}
