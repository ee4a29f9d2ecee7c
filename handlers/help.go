package handlers

import (
	"context"
	"strings"

	"github.com/osbuild/ibbot/bot"
)

// Help lists the commands of t, or explains one. It reads the same table
// that dispatch uses, so help cannot fall out of step with what works.
func Help(t *bot.Table) bot.Command {
	return bot.Command{
		Name: "help", Aliases: []string{"commands"}, Args: "[COMMAND]", MaxArgs: 1,
		Summary: "list the commands, or explain one",
		Example: "help ping",
		Run: func(_ context.Context, req bot.Request) (bot.Reply, error) {
			if len(req.Args) == 1 {
				return helpOne(t, req.Prefix, strings.TrimPrefix(req.Args[0], req.Prefix))
			}
			if req.Direct {
				return helpDirect(t, req.Prefix), nil
			}
			return helpAll(t, req.Prefix), nil
		},
	}
}

func helpAll(t *bot.Table, prefix string) bot.Reply {
	return commandList(new(bot.Msg), t, prefix).Reply()
}

// helpDirect is help in a direct chat: what the bot does privately, and
// that commands need no prefix there.
func helpDirect(t *bot.Table, prefix string) bot.Reply {
	m := new(bot.Msg).Text("In this private chat you can ask me anything I answer in the room, without the ").
		Code(prefix).Text(": ").Code("contribute").Text(" works as well as ").Code(prefix + "contribute").
		Text(". Nobody else sees what you ask here.").Line()
	return commandList(m, t, prefix).Reply()
}

// commandList appends every command of t, with its summary, to m; the
// commands used under another are named on one line below it, so a
// newcomer reads what to start with, not every step of a meeting.
func commandList(m *bot.Msg, t *bot.Table, prefix string) *bot.Msg {
	m.Bold("Commands").Line()
	nested := func(c *bot.Command) bool { _, ok := t.Lookup(c.Under); return c.Under != "" && ok }
	under := map[string][]string{}
	for _, c := range t.Commands() {
		if nested(c) {
			under[c.Under] = append(under[c.Under], c.Name)
		}
	}
	for _, c := range t.Commands() {
		if nested(c) {
			continue
		}
		m.Code(c.Usage(prefix)).Text(": " + c.Summary)
		if c.Admin {
			m.Text(" (room admins)")
		}
		m.Line()
		if names := under[c.Name]; len(names) > 0 {
			m.Text("    " + c.Then + ": ")
			for i, name := range names {
				if i > 0 {
					m.Text(", ")
				}
				m.Code(prefix + name)
			}
			m.Line()
		}
	}
	return m.Text("Type ").Code(prefix + "help COMMAND").Text(" for details and an example.")
}

func helpOne(t *bot.Table, prefix, name string) (bot.Reply, error) {
	c, ok := t.Lookup(name)
	if !ok {
		m := new(bot.Msg).Text("no command ").Code(prefix + name)
		if best := t.Suggest(name); best != "" {
			m.Text(": did you mean ").Code(prefix + best).Text("?")
		}
		return m.Reply(), nil
	}
	m := new(bot.Msg).Code(c.Usage(prefix)).Text(": " + c.Summary).Line()
	if c.Help != "" {
		m.Text(c.Help).Line()
	}
	if len(c.Aliases) > 0 {
		m.Text("Also: ")
		for i, a := range c.Aliases {
			if i > 0 {
				m.Text(", ")
			}
			m.Code(prefix + a)
		}
		m.Line()
	}
	if c.Admin {
		m.Text("Only room admins may run it.").Line()
	}
	ex := c.Example
	if ex == "" {
		ex = c.Name
	}
	return m.Text("Example: ").Code(prefix + ex).Reply(), nil
}
