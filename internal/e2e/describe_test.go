package e2e

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// TestCommandsAreDescribed: in a room where the bot may send state, it
// publishes one MSC4391 description per command (valid, keyed by command
// and bot), and a message carrying structured command input is answered;
// in a room where it may not, !status says so and the room hears nothing.
func TestCommandsAreDescribed(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	var pl event.PowerLevelsEventContent
	if err := s.human.StateEvent(ctx, s.room, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	pl.SetUserLevel(s.botUser.UserID, 50)
	if _, err := s.human.SendStateEvent(ctx, s.room, event.StatePowerLevels, "", &pl); err != nil {
		t.Fatal(err)
	}
	locked, err := s.human.CreateRoom(ctx, "locked", s.botUser.UserID)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.config(s.hs.URL)
	cfg.Matrix.Rooms = append(cfg.Matrix.Rooms, locked.String())
	startBot(t, cfg)

	wantNames := []string{"ping", "help", "hash", "arch", "contribute", "status", "gh", "issue"}
	descriptions := waitDescriptions(t, s, s.room, wantNames)
	names := map[string]bool{}
	for key, ec := range descriptions {
		if err := ec.Validate(); err != nil {
			t.Errorf("description of %s is invalid: %v", ec.Command, err)
		}
		if key != ec.StateKey(s.botUser.UserID) {
			t.Errorf("description of %s has state key %q, want MSC4391's", ec.Command, key)
		}
		names[ec.Command] = true
	}
	for _, want := range wantNames {
		if !names[want] {
			t.Errorf("no description of %s among %d", want, len(descriptions))
		}
	}
	// waitStatus fails the test if !status never says it.
	s.waitStatus(t, "not allowed in "+locked.String()+" (needs power level 50)")

	resp, err := s.human.SendMessageEvent(ctx, s.room, event.EventMessage, map[string]any{
		"msgtype": "m.text", "body": "/ping",
		"org.matrix.msc4391.command": map[string]any{"command": "ping"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.human.MustWait(t, wait, "the answer to a structured command", testenv.ReplyTo(resp.EventID))
}

// waitDescriptions reads the room's command descriptions by the bot once
// those of names are there (the bot publishes them after it starts).
func waitDescriptions(t *testing.T, s *stack, room id.RoomID, names []string) map[string]*cmdschema.EventContent {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		state, err := s.human.State(context.Background(), room)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]*cmdschema.EventContent{}
		have := map[string]bool{}
		for key, evt := range state[event.StateMSC4391BotCommand] {
			var ec cmdschema.EventContent
			if evt.Sender == s.botUser.UserID && json.Unmarshal(evt.Content.VeryRaw, &ec) == nil && ec.Command != "" {
				out[key] = &ec
				have[ec.Command] = true
			}
		}
		if !slices.ContainsFunc(names, func(n string) bool { return !have[n] }) || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}
