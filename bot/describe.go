package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/health"
)

// Command descriptions (MSC4391): clients that support them offer the
// bot's commands as slash commands, with their parameters. They come from
// the same table as dispatch and help.

// Describe is the MSC4391 description of c: its name, aliases, summary
// and parameters, read from its usage (Args): each word is a parameter,
// [..] an optional one, a|b a choice, a lowercase word itself; a command
// taking any number of words ends with a tail parameter that holds them.
func Describe(c *Command) *cmdschema.EventContent {
	ec := &cmdschema.EventContent{Command: c.Name, Aliases: c.Aliases, Description: event.MakeExtensibleText(c.Summary)}
	for i, word := range usageWords(c.Args) {
		inner := strings.TrimSuffix(strings.TrimPrefix(word, "["), "]")
		ec.Parameters = append(ec.Parameters, &cmdschema.Parameter{
			Key: paramKey(inner, i), Optional: strings.HasPrefix(word, "["), Schema: paramSchema(inner),
			Description: event.MakeExtensibleText(strings.ReplaceAll(inner, "|", " | ")),
		})
	}
	if c.MaxArgs < 0 && len(ec.Parameters) > 0 {
		ec.TailParam = ec.Parameters[len(ec.Parameters)-1].Key
	}
	return ec
}

// usageWords splits a usage into its parameters: on spaces outside
// brackets, with "a | b" kept as one choice.
func usageWords(usage string) []string {
	usage = strings.ReplaceAll(usage, " | ", "|")
	var words []string
	depth, start := 0, 0
	for i, r := range usage + " " {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case r == ' ' && depth == 0:
			if w := strings.TrimSpace(usage[start:min(i, len(usage))]); w != "" {
				words = append(words, w)
			}
			start = i + 1
		}
	}
	return words
}

var notKeyChars = regexp.MustCompile(`[^a-z0-9]+`)

// paramKey names a parameter after its first alternative: "COMPONENT"
// is "component", "OWNER/REPO#N" "owner_repo_n".
func paramKey(inner string, i int) string {
	first, _, _ := strings.Cut(inner, "|")
	if key := strings.Trim(notKeyChars.ReplaceAllString(strings.ToLower(first), "_"), "_"); key != "" {
		return key
	}
	return fmt.Sprintf("arg%d", i+1)
}

var lowerWord = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// paramSchema: a choice of lowercase words is an enum, one lowercase
// word a literal, anything else text.
func paramSchema(inner string) *cmdschema.ParameterSchema {
	alts := strings.Split(inner, "|")
	for _, a := range alts {
		if !lowerWord.MatchString(a) {
			return cmdschema.PrimitiveTypeString.Schema()
		}
	}
	if len(alts) == 1 {
		return cmdschema.Literal(alts[0])
	}
	values := make([]any, len(alts))
	for i, a := range alts {
		values[i] = a
	}
	return cmdschema.Enum(values...)
}

// structuredBody turns a message's structured command input into the
// text it stands for ("!hash composer"), so it is dispatched like a typed
// command; false when there is none or the command is unknown.
func (r *router) structuredBody(in *event.MSC4391BotCommandInput) (string, bool) {
	if in == nil {
		return "", false
	}
	cmd, ok := r.table.Lookup(strings.TrimPrefix(in.Command, r.prefix))
	if !ok {
		return "", false
	}
	body := r.prefix + cmd.Name
	if args := Describe(cmd).StringifyArgs(json.RawMessage(in.Arguments)); args != "" {
		body += " " + args
	}
	return body, true
}

// stateClient is what publishing descriptions needs of Matrix.
type stateClient interface {
	State(ctx context.Context, roomID id.RoomID) (mautrix.RoomStateMap, error)
	SendStateEvent(ctx context.Context, roomID id.RoomID, eventType event.Type, stateKey string, contentJSON any, extra ...mautrix.ReqSendEvent) (*mautrix.RespSendEvent, error)
}

// commandDocs keeps the rooms' command descriptions in step with the
// table: one state event per command (keyed as MSC4391 says), sent only
// when it differs from what the room has, and emptied for a command that
// no longer exists. A room where the bot may not send them is noted for
// !status, never told.
type commandDocs struct {
	table  *Table
	self   id.UserID
	client stateClient
	log    zerolog.Logger
	now    func() time.Time

	mu        sync.Mutex
	denied    map[id.RoomID]int // rooms where the bot may not, and the level needed
	published map[id.RoomID]bool
	failed    map[id.RoomID]string
	last      time.Time // when a room was last brought up to date
}

// publish brings one room's descriptions up to date; it reports how many
// state events it sent.
func (d *commandDocs) publish(ctx context.Context, room id.RoomID) (int, error) {
	state, err := d.client.State(ctx, room)
	if err != nil {
		return 0, d.note(room, 0, fmt.Errorf("reading the room's state: %w", err))
	}
	if need, ok := mayDescribe(state, d.self); !ok {
		return 0, d.note(room, need, nil)
	}
	have := state[event.StateMSC4391BotCommand]
	want := map[string]*cmdschema.EventContent{}
	for _, c := range d.table.Commands() {
		ec := Describe(c)
		want[ec.StateKey(d.self)] = ec
	}
	sent := 0
	for key, ec := range want {
		if old, ok := have[key]; ok && sameDescription(old, ec) {
			continue
		}
		if _, err := d.client.SendStateEvent(ctx, room, event.StateMSC4391BotCommand, key, ec); err != nil {
			return sent, d.note(room, 0, fmt.Errorf("describing %s: %w", ec.Command, err))
		}
		sent++
	}
	for key, old := range have {
		if _, current := want[key]; current || old.Sender != d.self || len(old.Content.VeryRaw) <= 2 {
			continue // still a command, not ours, or already emptied
		}
		if _, err := d.client.SendStateEvent(ctx, room, event.StateMSC4391BotCommand, key, struct{}{}); err != nil {
			return sent, d.note(room, 0, fmt.Errorf("removing a description: %w", err))
		}
		sent++
	}
	return sent, d.note(room, 0, nil)
}

// mayDescribe reports whether self may send command descriptions in a
// room with this state, and the power level that takes.
func mayDescribe(state mautrix.RoomStateMap, self id.UserID) (int, bool) {
	evt := state[event.StatePowerLevels][""]
	if evt == nil {
		return 0, true
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return 0, false
	}
	pl := evt.Content.AsPowerLevels()
	need := pl.GetEventLevel(event.StateMSC4391BotCommand)
	return need, pl.GetUserLevel(self) >= need
}

// sameDescription compares a room's description with the table's.
func sameDescription(old *event.Event, ec *cmdschema.EventContent) bool {
	var have cmdschema.EventContent
	if err := json.Unmarshal(old.Content.VeryRaw, &have); err != nil {
		return false
	}
	return have.Equals(ec)
}

// note records how publishing in room went, for !status.
func (d *commandDocs) note(room id.RoomID, needLevel int, err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.denied == nil {
		d.denied, d.published, d.failed = map[id.RoomID]int{}, map[id.RoomID]bool{}, map[id.RoomID]string{}
	}
	delete(d.denied, room)
	delete(d.failed, room)
	delete(d.published, room)
	switch {
	case err != nil:
		d.failed[room] = err.Error()
	case needLevel > 0:
		d.denied[room] = needLevel
	default:
		d.published[room] = true
		if d.now != nil {
			d.last = d.now()
		}
	}
	return err
}

// Health says where the commands are described, and where the bot may
// not describe them.
func (d *commandDocs) Health() health.Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := health.Report{Part: "command descriptions (MSC4391)", OK: len(d.failed) == 0, NotAllowed: len(d.denied) > 0, Last: d.last}
	r.Detail = fmt.Sprintf("published in %d %s", len(d.published), map[bool]string{true: "room", false: "rooms"}[len(d.published) == 1])
	for _, room := range slices.Sorted(maps.Keys(d.denied)) {
		r.Detail += fmt.Sprintf("; not allowed in %s (needs power level %d)", room, d.denied[room])
	}
	for _, room := range slices.Sorted(maps.Keys(d.failed)) {
		r.Detail += fmt.Sprintf("; failed in %s: %s", room, d.failed[room])
	}
	return r
}

// describeCommands publishes the descriptions in every room the bot is in.
func (b *Bot) describeCommands(ctx context.Context, joined []id.RoomID) {
	total := 0
	for _, room := range joined {
		n, err := b.docs.publish(ctx, room)
		if err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Str("room_id", room.String()).Msg("Describing the commands to clients failed")
		}
		total += n
	}
	b.log.Info().Int("rooms", len(joined)).Int("updated", total).Msg("Command descriptions (MSC4391) up to date")
}

// describeIn publishes the descriptions in a room just joined.
func (b *Bot) describeIn(ctx context.Context, room id.RoomID) {
	go func() {
		if _, err := b.docs.publish(ctx, room); err != nil && ctx.Err() == nil {
			b.log.Warn().Err(err).Str("room_id", room.String()).Msg("Describing the commands to clients failed")
		}
	}()
}

// CommandDescriptions reports, for !status, where the commands are
// described to clients.
func (b *Bot) CommandDescriptions() health.Reporter { return b.docs }
