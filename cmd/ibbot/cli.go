package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/osbuild/ibbot/internal/suggest"
)

// A command is one subcommand: its words for help, and its flags, which
// setup registers on the command's own flag set before returning what to
// run once they are parsed.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string // one line, for `ibbot help`
	detail  string // a paragraph, for `ibbot help NAME`
	example string
	setup   func(fs *flag.FlagSet) action
}

type action func(ctx context.Context, stdout io.Writer) error

// usageError is a command line that could not be understood; what was
// wrong and the usage have been printed already. The process exits 2, as
// Go's own tools do.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// dispatch runs the command line args (without the program name).
func dispatch(ctx context.Context, commands []command, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		printUsage(stderr, commands)
		return usageError{"no subcommand"}
	case isHelpFlag(args[0]):
		printUsage(stdout, commands)
		return nil
	case args[0] == "help":
		return help(commands, args[1:], stdout, stderr)
	case strings.HasPrefix(args[0], "-"):
		// `ibbot -config FILE` is `ibbot run -config FILE`, as before
		// there were subcommands.
		args = append([]string{"run"}, args...)
	}
	cmd, err := find(commands, args[0], stderr)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("ibbot "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are printed below, once
	act := cmd.setup(fs)
	err = fs.Parse(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		printCommand(stdout, cmd, fs)
		return nil
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("ibbot %s takes no arguments, got %q", cmd.name, fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintf(stderr, "ibbot %s: %v\n\n", cmd.name, err)
		printCommand(stderr, cmd, fs)
		return usageError{err.Error()}
	}
	return act(ctx, stdout)
}

func isHelpFlag(s string) bool { return s == "-h" || s == "-help" || s == "--help" }

// find looks a subcommand up, suggesting the nearest name for a typo.
func find(commands []command, name string, stderr io.Writer) (command, error) {
	var names []string
	for _, c := range commands {
		if c.name == name {
			return c, nil
		}
		names = append(names, c.name)
	}
	msg := fmt.Sprintf("unknown subcommand %q", name)
	if best := suggest.Closest(name, names); best != "" {
		msg += fmt.Sprintf("; did you mean %q?", best)
	}
	fmt.Fprintf(stderr, "ibbot: %s\nRun 'ibbot help' for the list.\n", msg)
	return command{}, usageError{msg}
}

// help prints the overview, or one command's usage, flags and example.
func help(commands []command, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stdout, commands)
		return nil
	}
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: ibbot help [SUBCOMMAND]")
		return usageError{"help takes one subcommand"}
	}
	cmd, err := find(commands, args[0], stderr)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("ibbot "+cmd.name, flag.ContinueOnError)
	cmd.setup(fs)
	printCommand(stdout, cmd, fs)
	return nil
}

func printUsage(w io.Writer, commands []command) {
	fmt.Fprint(w, "ibbot is the Image Builder community bot for Matrix.\n\nUsage:\n\n  ibbot <subcommand> [flags]\n\nSubcommands:\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprint(w, "\nRun 'ibbot help <subcommand>' (or 'ibbot <subcommand> -h') for its flags and an example.\n"+
		"Try it first with 'ibbot demo': a local homeserver, no accounts anywhere.\n")
}

func printCommand(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: ibbot %s", c.name)
	if c.args != "" {
		fmt.Fprintf(w, " %s", c.args)
	}
	fmt.Fprintf(w, "\n\n%s\n", c.detail)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if c.example != "" {
		fmt.Fprintf(w, "\nExample:\n\n  %s\n", c.example)
	}
}
