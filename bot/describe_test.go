package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"
)

func TestDescribeReadsTheUsage(t *testing.T) {
	run := func(context.Context, Request) (Reply, error) { return Reply{}, nil }
	for _, c := range []struct {
		cmd  Command
		want string // key:schema:optional per parameter, then the tail
	}{
		{Command{Name: "hash", Args: "[COMPONENT]", MaxArgs: 1, Run: run}, "component:primitive:true"},
		{Command{Name: "contribute", Args: "[frontend|backend|osbuild]", MaxArgs: 1, Run: run}, "frontend:union:true"},
		{Command{Name: "issue", Args: "OWNER/REPO#NUMBER", MinArgs: 1, MaxArgs: 1, Run: run}, "owner_repo_number:primitive:false"},
		{Command{Name: "deployed", Args: "OWNER/REPO#N | PR-URL | SHA", MinArgs: 1, MaxArgs: 1, Run: run}, "owner_repo_n:primitive:false"},
		{Command{Name: "gh", Args: "subscriptions", MinArgs: 1, MaxArgs: 1, Run: run}, "subscriptions:literal:false"},
		{Command{Name: "ml", Args: "[search WORDS]", MaxArgs: -1, Run: run}, "search_words:primitive:true tail=search_words"},
		{Command{Name: "ping", Run: run}, ""},
	} {
		ec := Describe(&c.cmd)
		if err := ec.Validate(); err != nil {
			t.Errorf("%s: invalid description: %v", c.cmd.Name, err)
		}
		var got []string
		for _, p := range ec.Parameters {
			got = append(got, p.Key+":"+string(p.Schema.SchemaType)+":"+map[bool]string{true: "true", false: "false"}[p.Optional])
		}
		if ec.TailParam != "" {
			got = append(got, "tail="+ec.TailParam)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("%s %q: parameters %q, want %q", c.cmd.Name, c.cmd.Args, strings.Join(got, " "), c.want)
		}
	}
}

// TestStructuredInputIsTheTypedCommand: a client's MSC4391 slash command
// (command name and arguments as JSON) is dispatched as the text it
// stands for.
func TestStructuredInputIsTheTypedCommand(t *testing.T) {
	r := testRouter(t)
	r.table = NewTable()
	run := func(context.Context, Request) (Reply, error) { return Reply{}, nil }
	r.table.Add(Command{Name: "hash", Aliases: []string{"sha"}, Args: "[COMPONENT]", MaxArgs: 1, Run: run})
	for _, c := range []struct {
		in   *event.MSC4391BotCommandInput
		want string
		ok   bool
	}{
		{&event.MSC4391BotCommandInput{Command: "hash", Arguments: json.RawMessage(`{"component":"composer"}`)}, "!hash composer", true},
		{&event.MSC4391BotCommandInput{Command: "sha"}, "!hash", true},
		{&event.MSC4391BotCommandInput{Command: "nope"}, "", false},
		{nil, "", false},
	} {
		got, ok := r.structuredBody(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%+v: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// fakeRoomState is a room's state as the homeserver keeps it.
type fakeRoomState struct {
	state map[event.Type]map[string]*event.Event
	sends int
}

func (f *fakeRoomState) State(context.Context, id.RoomID) (mautrix.RoomStateMap, error) {
	return f.state, nil
}

func (f *fakeRoomState) SendStateEvent(_ context.Context, _ id.RoomID, typ event.Type, key string, content any, _ ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error) {
	raw, _ := json.Marshal(content)
	if f.state[typ] == nil {
		f.state[typ] = map[string]*event.Event{}
	}
	f.state[typ][key] = &event.Event{Type: typ, Sender: "@ibbot:example.org", StateKey: &key, Content: event.Content{VeryRaw: raw}}
	f.sends++
	return &mautrix.RespSendEvent{}, nil
}

func powerLevels(bot, needed int) *event.Event {
	raw, _ := json.Marshal(map[string]any{"users": map[string]int{"@ibbot:example.org": bot},
		"events": map[string]int{event.StateMSC4391BotCommand.Type: needed}})
	key := ""
	return &event.Event{Type: event.StatePowerLevels, StateKey: &key, Content: event.Content{VeryRaw: raw}}
}

// TestCommandDescriptionsFollowTheTable: one description per command,
// sent only when it differs from the room's; a command that is gone has
// its description emptied; a room where the bot may not is only noted.
func TestCommandDescriptionsFollowTheTable(t *testing.T) {
	ctx := context.Background()
	room := &fakeRoomState{state: map[event.Type]map[string]*event.Event{event.StatePowerLevels: {"": powerLevels(50, 50)}}}
	table := testRouter(t).table
	docs := &commandDocs{table: table, self: "@ibbot:example.org", client: room, log: zerolog.Nop()}
	if n, err := docs.publish(ctx, "!r:example.org"); err != nil || n != len(table.Commands()) {
		t.Fatalf("first publish sent %d (%v), want one per command (%d)", n, err, len(table.Commands()))
	}
	if n, _ := docs.publish(ctx, "!r:example.org"); n != 0 {
		t.Errorf("an unchanged table sent %d events, want 0", n)
	}

	changed := NewTable()
	for _, c := range table.Commands() {
		switch c.Name {
		case "boom": // removed
		case "hash":
			cc := *c
			cc.Summary = "a new summary"
			changed.Add(cc)
		default:
			changed.Add(*c)
		}
	}
	docs.table = changed
	if n, _ := docs.publish(ctx, "!r:example.org"); n != 2 {
		t.Errorf("one changed and one removed command sent %d events, want 2", n)
	}
	boom := (&cmdschema.EventContent{Command: "boom"}).StateKey("@ibbot:example.org")
	if got := string(room.state[event.StateMSC4391BotCommand][boom].Content.VeryRaw); got != "{}" {
		t.Errorf("the removed command's description is %s, want emptied", got)
	}

	locked := &fakeRoomState{state: map[event.Type]map[string]*event.Event{event.StatePowerLevels: {"": powerLevels(0, 50)}}}
	docs.client = locked
	if n, err := docs.publish(ctx, "!locked:example.org"); n != 0 || err != nil {
		t.Errorf("a room where the bot may not: sent %d, %v", n, err)
	}
	// A missing power level is the room's setting, not a fault.
	if h := docs.Health(); !h.OK || !h.NotAllowed || !strings.Contains(h.Detail, "not allowed in !locked:example.org (needs power level 50)") {
		t.Errorf("status: %+v; want working, not allowed in the room", h)
	}
}
