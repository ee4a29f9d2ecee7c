package main

import (
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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

// TestArchitectureTableMatchesTheTree: every directory of Go code has a
// row in the README's architecture table, and every path the table names
// exists, so a newcomer reading it finds the tree it describes.
func TestArchitectureTableMatchesTheTree(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(b), "\n## Architecture\n")
	section, _, _ = strings.Cut(section, "\n## ")
	named := map[string]bool{}
	for line := range strings.Lines(section) {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cell := strings.Split(line, "|")[1]
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
			named[m[1]] = true
		}
	}
	root := "../.."
	for path := range named {
		if _, err := os.Stat(filepath.Join(root, path)); err != nil {
			t.Errorf("the architecture table names %s, which is not in the tree", path)
		}
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		if dir != "." && !named[filepath.ToSlash(dir)] {
			t.Errorf("%s has Go code but no row in the README's architecture table", dir)
			named[filepath.ToSlash(dir)] = true // said once
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(named) < 40 {
		t.Errorf("only %d paths read from the architecture table: is the section still called Architecture?", len(named))
	}
}

// TestNoSourceFileOutgrowsItsReader: no file of code is over 500 lines
// (tests and the end-to-end suite aside), and the GitHub relay's core
// stays under 250, the kinds of items in files of their own; a file that
// grows past these is split by what its parts are.
func TestNoSourceFileOutgrowsItsReader(t *testing.T) {
	limits := map[string]int{"handlers/github/relay.go": 250}
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "testdata" || rel == "internal/e2e") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		limit, ok := limits[filepath.ToSlash(rel)]
		if !ok {
			limit = 500
		}
		if n := strings.Count(string(data), "\n"); n > limit {
			t.Errorf("%s has %d lines, over %d", rel, n, limit)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
