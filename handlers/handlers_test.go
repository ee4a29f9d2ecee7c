package handlers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/buildinfo"
	"github.com/osbuild/ibbot/internal/golden"
	"github.com/osbuild/ibbot/internal/health"
	"github.com/osbuild/ibbot/internal/store"
)

type fixedQueue int

func (q fixedQueue) PendingCount(context.Context) (int, error) {
	if q < 0 {
		return 0, errors.New("database is locked")
	}
	return int(q), nil
}

// Failed returns one message refused for good, an hour before the test's now.
func (q fixedQueue) Failed(context.Context, int) ([]store.Outgoing, error) {
	return []store.Outgoing{{Key: "gh:root:!r:x:osbuild/osbuild#1", RoomID: "!r:x", EventType: "m.room.message",
		CreatedAt: time.Date(2025, 11, 1, 11, 0, 0, 0, time.UTC), LastError: "M_TOO_LARGE (HTTP 413): event too large"}}, nil
}

// fixedReport is a part whose state is given.
type fixedReport health.Report

func (r fixedReport) Health() health.Report { return health.Report(r) }

// testBoard has a working mail watcher, a failing poller and deploy checks
// that have not run yet.
func testBoard(now time.Time) *health.Board {
	b := &health.Board{}
	b.Add(fixedReport{Part: "mail", OK: true, Detail: "watching INBOX on imap.example.org:993",
		Since: now.Add(-26 * time.Hour), Last: now.Add(-12 * time.Second)})
	b.Add(fixedReport{Part: "GitHub polling", Detail: "1 of 10 repositories failed (osbuild/osbuild): GitHub is not answering right now",
		Since: now.Add(-5*time.Minute - 3*time.Second), Last: now.Add(-10 * time.Minute)})
	b.Add(fixedReport{Part: "deploy announcements", Detail: "not checked yet"})
	b.Add(fixedReport{Part: "sending", Detail: "cannot post to 1 room(s), their messages wait: #gone:example.org: the alias does not resolve: M_NOT_FOUND (2 waiting)",
		Since: now.Add(-time.Hour), Last: now.Add(-time.Minute)})
	return b
}

func testTable(t *testing.T, now time.Time, queue fixedQueue) *bot.Table {
	t.Helper()
	table := bot.NewTable()
	err := Register(table, Deps{
		Build:   buildinfo.Info{Version: "v1.2.3", Commit: "0123456789ab", GoVersion: "go1.26.8"},
		Started: now.Add(-(26*time.Hour + 5*time.Minute)),
		Now:     func() time.Time { return now },
		Status:  queue,
		Health:  testBoard(now),
	})
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// TestRepliesGolden renders each built-in command's answer, plain and HTML.
func TestRepliesGolden(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	table := testTable(t, now, 3)
	cases := []struct{ file, line string }{
		{"help.golden", "help"},
		{"help-ping.golden", "help ping"},
		{"help-alias.golden", "help commands"},
		{"help-status.golden", "help !status"},
		{"help-unknown.golden", "help pnig"},
		{"ping.golden", "ping"},
		{"version.golden", "version"},
		{"status.golden", "status"},
	}
	for _, c := range cases {
		fields := strings.Fields(c.line)
		cmd, ok := table.Lookup(fields[0])
		if !ok {
			t.Fatalf("no command %q", fields[0])
		}
		rep, err := cmd.Run(context.Background(), bot.Request{
			Command: cmd.Name, Args: fields[1:], Prefix: "!", Sender: "@alice:example.org",
			Received: now.Add(-1500 * time.Microsecond),
		})
		if err != nil {
			t.Fatalf("%s: %v", c.line, err)
		}
		golden.Check(t, c.file, "plain:\n"+rep.Plain+"\n\nhtml:\n"+rep.HTML+"\n")
	}
}

func TestStatusReportsStoreErrors(t *testing.T) {
	cmd, _ := testTable(t, time.Now(), -1).Lookup("status")
	if _, err := cmd.Run(context.Background(), bot.Request{}); err == nil {
		t.Fatal("a failing store was reported as healthy")
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		400 * time.Microsecond: "0.4 ms", 12 * time.Millisecond: "12 ms", 3200 * time.Millisecond: "3.2 s", 95 * time.Second: "1m35s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestHelpNamesACommandsStepsOnOneLine: commands used under another (a
// meeting's) are named on one line below it, not a line each, and are
// still explained alone; without their parent they are listed as any.
func TestHelpNamesACommandsStepsOnOneLine(t *testing.T) {
	run := func(context.Context, bot.Request) (bot.Reply, error) { return bot.Reply{}, nil }
	cmds := []bot.Command{
		{Name: "startmeeting", Summary: "starts a meeting", Then: "in the meeting", Run: run},
		{Name: "topic", Args: "TEXT", Summary: "sets the topic", Under: "startmeeting", Run: run},
		{Name: "endmeeting", Summary: "ends it", Under: "startmeeting", Run: run},
		{Name: "orphan", Summary: "used under nothing here", Under: "absent", Run: run},
	}
	table := bot.NewTable()
	if err := table.Add(cmds...); err != nil {
		t.Fatal(err)
	}
	if err := table.Add(Help(table)); err != nil {
		t.Fatal(err)
	}
	help, _ := table.Lookup("help")
	ask := func(args ...string) string {
		rep, err := help.Run(context.Background(), bot.Request{Command: "help", Args: args, Prefix: "!"})
		if err != nil {
			t.Fatal(err)
		}
		return rep.Plain
	}
	got := ask()
	for _, want := range []string{
		"`!startmeeting`: starts a meeting\n    in the meeting: `!topic`, `!endmeeting`\n",
		"`!orphan`: used under nothing here\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("!help lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "sets the topic") {
		t.Errorf("a meeting's step has a line of its own:\n%s", got)
	}
	if got := ask("topic"); !strings.Contains(got, "`!topic TEXT`: sets the topic") {
		t.Errorf("!help topic: %s", got)
	}
}
