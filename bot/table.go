package bot

import (
	"fmt"
	"slices"
	"strings"

	"github.com/osbuild/ibbot/internal/suggest"
)

// Command is one entry of the command table: dispatch, argument checks,
// permission and help all come from here.
type Command struct {
	Name    string
	Aliases []string
	Args    string // usage of the arguments, e.g. "[COMMAND]"
	MinArgs int
	MaxArgs int    // -1 for any number
	Summary string // one line for !help
	Help    string // more detail for !help NAME
	Example string // e.g. "help ping", without prefix
	Admin   bool   // needs the room's admin power level
	// AdminIf, when set, says which invocations need the admin power
	// level (subcommands that change the room's settings).
	AdminIf func(args []string) bool
	// Under names the command this one is used with (a meeting's commands
	// are used under startmeeting): !help lists it on one line below that
	// command instead of a line of its own, and explains it when asked.
	Under string
	// Then is how !help introduces the commands Under this one ("in the
	// meeting").
	Then string
	Run  Handler
}

// needsAdmin reports whether this invocation needs the admin power level.
func (c *Command) needsAdmin(args []string) bool {
	return c.Admin || (c.AdminIf != nil && c.AdminIf(args))
}

// Table is the set of commands the bot answers.
type Table struct {
	cmds   []*Command
	byName map[string]*Command
}

// NewTable returns an empty table.
func NewTable() *Table { return &Table{byName: make(map[string]*Command)} }

// Add registers commands; a name or alias used twice is an error.
func (t *Table) Add(cmds ...Command) error {
	for _, c := range cmds {
		if c.Name == "" || c.Run == nil {
			return fmt.Errorf("command %q needs a name and a Run function", c.Name)
		}
		cmd := c
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			name = strings.ToLower(name)
			if _, dup := t.byName[name]; dup {
				return fmt.Errorf("command name %q is used twice", name)
			}
			t.byName[name] = &cmd
		}
		t.cmds = append(t.cmds, &cmd)
	}
	return nil
}

// Lookup finds a command by name or alias, case-insensitively.
func (t *Table) Lookup(name string) (*Command, bool) {
	c, ok := t.byName[strings.ToLower(name)]
	return c, ok
}

// Commands lists the commands in the order they were added.
func (t *Table) Commands() []*Command { return slices.Clone(t.cmds) }

// Suggest returns the known name closest to a mistyped one, or "".
func (t *Table) Suggest(name string) string {
	names := make([]string, 0, len(t.byName))
	for _, c := range t.cmds {
		names = append(names, c.Name)
		names = append(names, c.Aliases...)
	}
	if best := suggest.Closest(strings.ToLower(name), names); best != "" {
		return best
	}
	// A unique prefix ("!hel") is a plain abbreviation.
	var match string
	for _, n := range names {
		if strings.HasPrefix(n, strings.ToLower(name)) {
			if match != "" {
				return ""
			}
			match = n
		}
	}
	return match
}

// Usage is the one-line synopsis of c, e.g. "!help [COMMAND]".
func (c *Command) Usage(prefix string) string {
	if c.Args == "" {
		return prefix + c.Name
	}
	return prefix + c.Name + " " + c.Args
}

func (c *Command) acceptsArgs(n int) bool {
	return n >= c.MinArgs && (c.MaxArgs < 0 || n <= c.MaxArgs)
}
