package main

import (
	"flag"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECommandsParse: every ibbot command line in the README's shell
// blocks names a subcommand that exists, with flags it takes: the
// operator's path does not meet "flag provided but not defined".
func TestREADMECommandsParse(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	invocation := regexp.MustCompile(`(?:^|[\s/])ibbot ([a-z][a-z-]*)((?: +-[^\s|>#\\]+(?: +[^-\s|>#\\][^\s|>#\\]*)?)*)`)
	seen := 0
	for _, block := range blocks {
		for _, line := range strings.Split(block[1], "\n") {
			for _, m := range invocation.FindAllStringSubmatch(line, -1) {
				seen++
				cmd, err := find(commands(io.Discard), m[1], io.Discard)
				if err != nil {
					t.Errorf("README: %q: no subcommand %q", strings.TrimSpace(line), m[1])
					continue
				}
				fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
				fs.SetOutput(io.Discard)
				cmd.setup(fs)
				if err := fs.Parse(strings.Fields(m[2])); err != nil || fs.NArg() > 0 {
					t.Errorf("README: %q: %v (arguments left: %v)", strings.TrimSpace(line), err, fs.Args())
				}
			}
		}
	}
	if seen < 6 {
		t.Errorf("only %d ibbot command lines found in the README's shell blocks", seen)
	}
}
