package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/safe"
)

// incoming is a room message that may be a command.
type incoming struct {
	RoomID     id.RoomID
	EventID    id.EventID
	Sender     id.UserID
	Body       string
	ThreadRoot id.EventID // set when the message was sent in a thread
	InReplyTo  id.EventID // set when the message replies to another
	Received   time.Time
	// Direct is a direct chat with the bot: commands need no prefix.
	Direct bool
}

func (in incoming) message() Message {
	return Message{RoomID: in.RoomID, EventID: in.EventID, Sender: in.Sender, Body: in.Body}
}

// job is a command ready to run: parsed, flood-checked and looked up; or
// an ordinary message a listener wants to answer.
type job struct {
	in       incoming
	listener Listener
	cmd      *Command // nil for an unknown command
	name     string   // the name as typed
	args     []string
	instant  *Reply // an answer known without running anything
	outcome  string // set with instant
	cutFrom  int    // the arguments' length in characters when they were cut; 0: whole
}

// maxArgRunes is how much of a command's arguments is read: every
// command's arguments fit in far less, and what a handler echoes back
// (an unknown name, a search) stays small.
const maxArgRunes = 1000

// cutArgs keeps the arguments' first maxArgRunes characters; n is their
// length in characters when they were longer, else 0.
func cutArgs(args []string) (kept []string, n int) {
	total := 0
	for _, a := range args {
		total += utf8.RuneCountInString(a)
	}
	if total <= maxArgRunes {
		return args, 0
	}
	left := maxArgRunes
	for _, a := range args {
		if left <= 0 {
			break
		}
		r := []rune(a)
		if len(r) > left {
			r = r[:left]
		}
		kept = append(kept, string(r))
		left -= len(r)
	}
	return kept, total
}

// router turns messages into jobs and jobs into replies. prepare is called
// from the sync goroutine only, so its flood state needs no lock; run may be
// called concurrently.
type router struct {
	table      *Table
	listeners  []Listener
	prefix     string
	names      []string // how people address the bot by name ("ibbot")
	flood      *floodLimiter
	powerLevel func(ctx context.Context, room id.RoomID, user id.UserID) (int, error)
	adminLevel int
	timeout    time.Duration
}

// parse extracts the command word and arguments from a message, or reports
// that it is not a command.
func (r *router) parse(body string) (name string, args []string, ok bool) {
	body = strings.TrimSpace(body)
	if rest, found := strings.CutPrefix(body, r.prefix); found {
		fields := strings.Fields(rest)
		if len(fields) == 0 || strings.HasPrefix(rest, " ") {
			return "", nil, false
		}
		return fields[0], fields[1:], true
	}
	lower := strings.ToLower(body)
	for _, n := range r.names {
		if !strings.HasPrefix(lower, strings.ToLower(n)) {
			continue
		}
		rest := body[len(n):]
		rest = strings.TrimLeft(rest, ":, ")
		if len(rest) == len(body)-len(n) { // no separator: "ibbotfoo" is not addressed
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(rest, r.prefix))
		if len(fields) == 0 {
			return "help", nil, true
		}
		return fields[0], fields[1:], true
	}
	return "", nil, false
}

// parseDirect reads a message in a direct chat: a command word without
// the prefix ("contribute") is a command too.
func (r *router) parseDirect(body string) (name string, args []string, ok bool) {
	fields := strings.Fields(body)
	if len(fields) == 0 {
		return "", nil, false
	}
	if _, known := r.table.Lookup(strings.ToLower(fields[0])); !known {
		return "", nil, false
	}
	return strings.ToLower(fields[0]), fields[1:], true
}

// directHint answers, in a direct chat, a message that is no command: the
// person is talking to the bot alone, and silence would look broken.
func (r *router) directHint(in incoming) job {
	j := job{in: in, name: "chat"}
	if r.flood.allow(in.Sender, in.Received) != floodAllow {
		j.outcome = "flooded"
		return j
	}
	rep := new(Msg).Text("I answer commands; here they need no ").Code(r.prefix).Text(". Say ").Code("help").
		Text(" to see them all, or try ").Code("contribute").Text(".").Reply()
	j.instant, j.outcome = &rep, "hint"
	return j
}

// prepare returns the job for a message, or false when neither a command
// nor a listener wants it.
func (r *router) prepare(in incoming) (job, bool) {
	name, args, ok := r.parse(in.Body)
	if !ok && in.Direct {
		name, args, ok = r.parseDirect(in.Body)
	}
	if !ok {
		msg := in.message()
		for _, l := range r.listeners {
			if !l.Match(msg) {
				continue
			}
			// A listener's answer costs like a command: someone pasting
			// links fast gets previews only within the flood limit (and
			// no warning: the links were not addressed to the bot).
			if r.flood.allow(in.Sender, in.Received) != floodAllow {
				return job{in: in, name: "listener", outcome: "flooded"}, true
			}
			return job{in: in, listener: l, name: "listener"}, true
		}
		if in.Direct {
			return r.directHint(in), true
		}
		return job{}, false
	}
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100]) // an unknown command's name is echoed
	}
	j := job{in: in, name: name}
	j.args, j.cutFrom = cutArgs(args)
	switch verdict := r.flood.allow(in.Sender, in.Received); verdict {
	case floodQuiet:
		j.outcome = "flooded"
		return j, true
	case floodWarn:
		rep := TextReply("%s, you are sending commands too fast; I will answer again in %s.",
			in.Sender, r.flood.retryIn(in.Sender, in.Received).Round(time.Second))
		j.instant, j.outcome = &rep, "flooded"
		return j, true
	}
	cmd, found := r.table.Lookup(name)
	if !found {
		rep := r.unknownReply(name)
		j.instant, j.outcome = &rep, "unknown"
		return j, true
	}
	j.cmd = cmd
	if !cmd.acceptsArgs(len(args)) {
		rep := new(Msg).Text("usage: ").Code(cmd.Usage(r.prefix)).
			Textf(" (see %shelp %s)", r.prefix, cmd.Name).Reply()
		j.instant, j.outcome = &rep, "bad_args"
	}
	return j, true
}

func (r *router) unknownReply(name string) Reply {
	m := new(Msg).Text("unknown command ").Code(r.prefix + name)
	if best := r.table.Suggest(name); best != "" {
		m.Text(": did you mean ").Code(r.prefix + best).Text("?")
	} else {
		m.Text(": ").Code(r.prefix + "help").Text(" lists what I know.")
	}
	return m.Reply()
}

// run answers a job. The returned outcome labels the commands metric; a nil
// reply means the bot stays quiet. A reply to arguments that were cut says
// so.
func (r *router) run(ctx context.Context, j job, log zerolog.Logger) (*Reply, string) {
	reply, outcome := r.answer(ctx, j, log)
	if reply != nil && j.cutFrom > 0 {
		rep := *reply
		rep.Plain += fmt.Sprintf("\n\n(Your command's text was %d characters long; I read only its first %d.)", j.cutFrom, maxArgRunes)
		if rep.HTML != "" {
			rep.HTML += fmt.Sprintf("<br><br>(Your command&#39;s text was %d characters long; I read only its first %d.)", j.cutFrom, maxArgRunes)
		}
		reply = &rep
	}
	return reply, outcome
}

func (r *router) answer(ctx context.Context, j job, log zerolog.Logger) (reply *Reply, outcome string) {
	if j.instant != nil || j.outcome != "" {
		return j.instant, j.outcome
	}
	if j.listener != nil {
		ctx, cancel := context.WithTimeout(ctx, r.timeout)
		defer cancel()
		rep, err := j.listener.Answer(ctx, j.in.message())
		if err != nil {
			log.Warn().Err(err).Msg("Listener failed; staying quiet")
			return nil, "error"
		}
		if rep == nil {
			return nil, "quiet"
		}
		return rep, "ok"
	}
	if j.cmd.needsAdmin(j.args) {
		if rep, denied := r.checkAdmin(ctx, j, log); denied {
			return rep, "denied"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	rep, err := r.call(ctx, j, log)
	if err == nil {
		return &rep, "ok"
	}
	log.Error().Err(err).Str("command", j.cmd.Name).Msg("Command failed")
	var ue *UserError
	if errors.As(err, &ue) {
		rep = TextReply("%s", ue.Msg)
	} else if ctx.Err() != nil {
		rep = TextReply("%s%s took too long and was stopped; please try again later.", r.prefix, j.cmd.Name)
	} else {
		rep = TextReply("%s%s failed because of an internal error; the operator can find it in the logs under event %s.",
			r.prefix, j.cmd.Name, j.in.EventID)
	}
	return &rep, "error"
}

// call runs the handler; a panic is logged with its stack and becomes an
// error, so one bad command cannot take the bot down.
func (r *router) call(ctx context.Context, j job, log zerolog.Logger) (rep Reply, err error) {
	err = safe.Call(log, "Command crashed", func() (err error) {
		rep, err = j.cmd.Run(ctx, Request{
			Command: j.cmd.Name, Args: j.args, Body: j.in.Body, Prefix: r.prefix, Direct: j.in.Direct,
			Sender: j.in.Sender, RoomID: j.in.RoomID, EventID: j.in.EventID, Received: j.in.Received,
			ThreadRoot: j.in.ThreadRoot, InReplyTo: j.in.InReplyTo,
		})
		return err
	})
	return rep, err
}

func (r *router) checkAdmin(ctx context.Context, j job, log zerolog.Logger) (*Reply, bool) {
	level, err := r.powerLevel(ctx, j.in.RoomID, j.in.Sender)
	if err != nil {
		log.Error().Err(err).Msg("Reading power levels failed")
		rep := TextReply("I could not check your power level in this room, so %s%s is refused for now.", r.prefix, j.cmd.Name)
		return &rep, true
	}
	if level < r.adminLevel {
		what := r.prefix + j.cmd.Name
		if !j.cmd.Admin && len(j.args) > 0 {
			what += " " + j.args[0]
		}
		rep := TextReply("%s is for room admins (power level %d or more; yours is %d), and changes nothing otherwise.", what, r.adminLevel, level)
		return &rep, true
	}
	return nil, false
}
