package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets a test run this test binary as the ibbot command itself
// (IBBOT_TEST_AS_MAIN=1), to see the exit codes a person sees.
func TestMain(m *testing.M) {
	if os.Getenv("IBBOT_TEST_AS_MAIN") == "1" {
		os.Args = append([]string{"ibbot"}, strings.Fields(os.Getenv("IBBOT_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ibbot runs the command line as a process: its exit code, stdout, stderr.
func ibbot(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "IBBOT_TEST_AS_MAIN=1", "IBBOT_TEST_ARGS="+strings.Join(args, " "))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// TestHelpExitsZero: every way of asking for help prints it on stdout and
// exits 0; a subcommand's help shows its own flags and an example, and
// none of another's.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"-help"}} {
		code, out, errOut := ibbot(t, args...)
		if code != 0 || !strings.Contains(out, "Subcommands:") || !strings.Contains(out, "check-config") {
			t.Errorf("ibbot %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
		if strings.Contains(out+errOut, "flag: help requested") {
			t.Errorf("ibbot %s shows Go's internal error: %q", strings.Join(args, " "), out+errOut)
		}
	}
	for _, args := range [][]string{{"help", "login"}, {"login", "-h"}, {"login", "--help"}} {
		code, out, _ := ibbot(t, args...)
		if code != 0 {
			t.Errorf("ibbot %s: exit %d", strings.Join(args, " "), code)
		}
		for _, want := range []string{"usage: ibbot login -config FILE [-listen ADDR]", "-listen ADDR", "-config FILE", "Example:\n\n  ibbot login -config"} {
			if !strings.Contains(out, want) {
				t.Errorf("ibbot %s does not show %q:\n%s", strings.Join(args, " "), want, out)
			}
		}
		if strings.Contains(out, "-keep") {
			t.Errorf("login's help lists the demo's -keep flag:\n%s", out)
		}
	}
	code, out, _ := ibbot(t, "help", "demo")
	if code != 0 || !strings.Contains(out, "-keep") || strings.Contains(out, "-config") {
		t.Errorf("ibbot help demo: exit %d, want its own -keep and no -config:\n%s", code, out)
	}
}

// TestCommandLineMistakesExitTwo: what cannot be understood is named, with
// the usage, and exits 2; nothing runs.
func TestCommandLineMistakesExitTwo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "Subcommands:"},
		{[]string{"rn"}, `unknown subcommand "rn"; did you mean "run"?`},
		{[]string{"demo", "-config", "x.yaml"}, "ibbot demo: flag provided but not defined: -config"},
		{[]string{"version", "-listen", "1"}, "ibbot version: flag provided but not defined: -listen"},
		{[]string{"check-config", "-config", "a.yaml", "b.yaml"}, `ibbot check-config takes no arguments, got "b.yaml"`},
		{[]string{"help", "nope"}, `unknown subcommand "nope"`},
	} {
		code, out, errOut := ibbot(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("ibbot %s: exit %d, stderr %q, stdout %q; want exit 2 and %q", strings.Join(c.args, " "), code, errOut, out, c.want)
		}
	}
	code, _, errOut := ibbot(t, "run")
	if code != 1 || !strings.Contains(errOut, "-config FILE is required") {
		t.Errorf("ibbot run without a config: exit %d, %q", code, errOut)
	}
}

// TestEveryCommandHasHelp: the table that dispatches is the one help
// lists, and each entry has the words help needs.
func TestEveryCommandHasHelp(t *testing.T) {
	code, overview, _ := ibbot(t, "help")
	if code != 0 {
		t.Fatalf("ibbot help: exit %d", code)
	}
	for _, c := range commands(nil) {
		if c.summary == "" || c.detail == "" {
			t.Errorf("%s lacks a summary or detail", c.name)
		}
		if c.name != "version" && !strings.HasPrefix(c.example, "ibbot "+c.name) {
			t.Errorf("%s's example %q does not run it", c.name, c.example)
		}
		if !strings.Contains(overview, "  "+c.name+" ") {
			t.Errorf("ibbot help does not list %s", c.name)
		}
	}
}
