package bot

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"
)

func testRouter(t *testing.T) *router {
	t.Helper()
	table := NewTable()
	echo := func(_ context.Context, r Request) (Reply, error) { return TextReply("%s %v", r.Command, r.Args), nil }
	err := table.Add(
		Command{Name: "hash", Aliases: []string{"sha"}, MaxArgs: 1, Run: echo},
		Command{Name: "help", MaxArgs: 1, Run: echo},
		Command{Name: "boom", MaxArgs: -1, Run: func(context.Context, Request) (Reply, error) { panic("kaboom") }},
		Command{Name: "oops", MaxArgs: -1, Run: func(context.Context, Request) (Reply, error) {
			return Reply{}, Errorf(errors.New("dial tcp: refused"), "GitHub is not answering; try again in a minute")
		}},
		Command{Name: "secret", MaxArgs: -1, Run: func(context.Context, Request) (Reply, error) {
			return Reply{}, errors.New("token syt_abc rejected")
		}},
		Command{Name: "admin", Admin: true, Run: echo},
	)
	if err != nil {
		t.Fatal(err)
	}
	return &router{
		table: table, prefix: "!", names: []string{"@ibbot:example.org", "ibbot", "IB Bot"},
		flood: newFloodLimiter(0, 0), timeout: time.Second, adminLevel: 50,
		powerLevel: func(_ context.Context, _ id.RoomID, u id.UserID) (int, error) {
			if u == "@admin:example.org" {
				return 100, nil
			}
			return 0, nil
		},
	}
}

func TestParse(t *testing.T) {
	r := testRouter(t)
	cases := []struct {
		body string
		name string
		args []string
		ok   bool
	}{
		{"!hash composer", "hash", []string{"composer"}, true},
		{"  !hash   composer  ", "hash", []string{"composer"}, true},
		{"!HASH", "HASH", nil, true},
		{"! hash", "", nil, false},
		{"!", "", nil, false},
		{"hello !hash", "", nil, false},
		{"ibbot: hash composer", "hash", []string{"composer"}, true},
		{"ibbot, help", "help", nil, true},
		{"IBBOT help", "help", nil, true},
		{"ibbot: !hash", "hash", nil, true},
		{"ibbot:", "help", nil, true},
		{"IB Bot: help", "help", nil, true},
		{"@ibbot:example.org help", "help", nil, true},
		{"ibbotty help", "", nil, false},
		{"", "", nil, false},
	}
	for _, c := range cases {
		name, args, ok := r.parse(c.body)
		if name != c.name || ok != c.ok || !slices.Equal(args, c.args) {
			t.Errorf("parse(%q) = %q %q %v, want %q %q %v", c.body, name, args, ok, c.name, c.args, c.ok)
		}
	}
}

func answer(t *testing.T, r *router, sender id.UserID, body string) (string, string) {
	t.Helper()
	j, ok := r.prepare(incoming{Body: body, Sender: sender, EventID: "$cmd", Received: time.Unix(0, 0)})
	if !ok {
		t.Fatalf("%q is not a command", body)
	}
	rep, outcome := r.run(context.Background(), j, zerolog.Nop())
	if rep == nil {
		return "", outcome
	}
	return rep.Plain, outcome
}

func TestRunOutcomes(t *testing.T) {
	r := testRouter(t)
	cases := []struct {
		sender  id.UserID
		body    string
		want    string
		outcome string
	}{
		{"@a:x", "!hash composer", "hash [composer]", "ok"},
		{"@a:x", "!sha composer", "hash [composer]", "ok"},
		{"@a:x", "!hsah", "unknown command `!hsah`: did you mean `!hash`?", "unknown"},
		{"@a:x", "!he", "unknown command `!he`: did you mean `!help`?", "unknown"},
		{"@a:x", "!zzzzzz", "unknown command `!zzzzzz`: `!help` lists what I know.", "unknown"},
		{"@a:x", "!hash a b", "usage: `!hash`", "bad_args"},
		{"@a:x", "!boom", "!boom failed because of an internal error", "error"},
		{"@a:x", "!oops", "GitHub is not answering; try again in a minute", "error"},
		{"@a:x", "!admin", "!admin is for room admins (power level 50 or more; yours is 0)", "denied"},
		{"@admin:example.org", "!admin", "admin []", "ok"},
	}
	for _, c := range cases {
		got, outcome := answer(t, r, c.sender, c.body)
		if !strings.Contains(got, c.want) || outcome != c.outcome {
			t.Errorf("%s says %q: got %q (%s), want %q (%s)", c.sender, c.body, got, outcome, c.want, c.outcome)
		}
	}
	// An internal error's text (which may hold secrets) never reaches the room.
	if got, _ := answer(t, r, "@a:x", "!secret"); strings.Contains(got, "syt_abc") {
		t.Errorf("internal error leaked to the room: %q", got)
	}
}

func TestFloodLimiter(t *testing.T) {
	f := newFloodLimiter(2, time.Minute)
	t0 := time.Unix(1000, 0)
	want := []floodVerdict{floodAllow, floodAllow, floodWarn, floodQuiet, floodQuiet}
	for i, w := range want {
		if got := f.allow("@a:x", t0.Add(time.Duration(i)*time.Second)); got != w {
			t.Errorf("command %d: %v, want %v", i+1, got, w)
		}
	}
	if got := f.allow("@b:x", t0.Add(5*time.Second)); got != floodAllow {
		t.Errorf("another user is limited: %v", got)
	}
	if d := f.retryIn("@a:x", t0.Add(20*time.Second)); d != 40*time.Second {
		t.Errorf("retryIn = %s, want 40s", d)
	}
	if got := f.allow("@a:x", t0.Add(time.Minute)); got != floodAllow {
		t.Errorf("after the window: %v, want allowed again", got)
	}
}

func TestMsgEscapesAndDefuses(t *testing.T) {
	r := new(Msg).Text(`<script>alert("x")</script> @room @ROOM `).Code("a<b").
		Link(`x"><img src=y>`, `https://e.org/?a=1&b="2"`).Reply()
	for _, bad := range []string{"<script>", "<img", `"2"`, "@room", "@ROOM"} {
		if strings.Contains(r.HTML, bad) {
			t.Errorf("HTML %q contains %q", r.HTML, bad)
		}
	}
	if strings.Contains(strings.ToLower(r.Plain), "@room") {
		t.Errorf("plain %q can still ping the room", r.Plain)
	}
	if !strings.Contains(r.Plain, `<script>alert("x")</script>`) {
		t.Errorf("plain text was mangled: %q", r.Plain)
	}
}

func TestTableRejectsDuplicates(t *testing.T) {
	table := NewTable()
	run := func(context.Context, Request) (Reply, error) { return Reply{}, nil }
	if err := table.Add(Command{Name: "a", Run: run}, Command{Name: "b", Aliases: []string{"A"}, Run: run}); err == nil {
		t.Fatal("an alias equal to another command's name was accepted")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"!hash composer", "ibbot: help", "!", "ibbot:", "\u00a0!x", "IB Bot,, !ping a"} {
		f.Add(s)
	}
	r := &router{prefix: "!", names: []string{"ibbot", "IB Bot"}}
	f.Fuzz(func(t *testing.T, body string) {
		name, args, ok := r.parse(body)
		if !ok {
			return
		}
		if name == "" || strings.ContainsAny(name, " \t\n") {
			t.Fatalf("parse(%q) gave command name %q", body, name)
		}
		for _, a := range args {
			if a == "" {
				t.Fatalf("parse(%q) gave an empty argument", body)
			}
		}
	})
}

// linkListener answers every message that mentions "#".
type linkListener struct{ answered int }

func (l *linkListener) Match(m Message) bool { return strings.Contains(m.Body, "#") }
func (l *linkListener) Answer(context.Context, Message) (*Reply, error) {
	l.answered++
	r := TextReply("preview")
	return &r, nil
}

// TestListenerAnswersCountForTheFloodLimit: pasting links fast gets
// previews only within the flood limit, and the limit is shared with
// commands.
func TestListenerAnswersCountForTheFloodLimit(t *testing.T) {
	r := testRouter(t)
	r.flood = newFloodLimiter(3, time.Minute)
	l := &linkListener{}
	r.listeners = []Listener{l}
	t0 := time.Unix(1000, 0)
	var previews int
	for i := range 10 {
		j, ok := r.prepare(incoming{Sender: "@paste:x", Body: "see a/b#1", Received: t0.Add(time.Duration(i) * time.Second)})
		if !ok {
			t.Fatal("a link was not handled")
		}
		if rep, _ := r.run(context.Background(), j, zerolog.Nop()); rep != nil {
			previews++
		}
	}
	if previews != 3 || l.answered != 3 {
		t.Errorf("%d previews (%d listener calls) for 10 links within a minute, want 3", previews, l.answered)
	}
	if j, _ := r.prepare(incoming{Sender: "@paste:x", Body: "!hash", Received: t0.Add(20 * time.Second)}); j.outcome != "flooded" {
		t.Errorf("a command after the previews used up the limit was not limited: %+v", j)
	}
}

// TestDirectChatNeedsNoPrefix: in a direct chat a command word alone is a
// command, with or without the prefix; anything else gets a hint instead
// of silence. In a room the same words are ordinary chat.
func TestDirectChatNeedsNoPrefix(t *testing.T) {
	r := testRouter(t)
	now := time.Now()
	for _, c := range []struct {
		body    string
		direct  bool
		command string // "" : not a command
		hint    bool
	}{
		{"hash composer", true, "hash", false},
		{"SHA composer", true, "hash", false},
		{"!hash composer", true, "hash", false},
		{"hello there", true, "", true},
		{"hash composer", false, "", false},
		{"hello there", false, "", false},
	} {
		j, ok := r.prepare(incoming{Body: c.body, Direct: c.direct, Sender: "@u:example.org", Received: now})
		got := ""
		if j.cmd != nil {
			got = j.cmd.Name
		}
		if got != c.command || (ok && j.outcome == "hint") != c.hint || (!ok && (c.command != "" || c.hint)) {
			t.Errorf("%q (direct %v): command %q, outcome %q, ok %v; want command %q, hint %v", c.body, c.direct, got, j.outcome, ok, c.command, c.hint)
		}
	}
}

// TestLongInputIsCutAndSaid: 60,000 characters after a command reach the
// handler as their first 1,000, and the answer says so; an unknown
// command's long name is echoed cut.
func TestLongInputIsCutAndSaid(t *testing.T) {
	r := testRouter(t)
	got, outcome := answer(t, r, "@u:x", "!help "+strings.Repeat("é", 60000))
	if outcome != "ok" || len(got) > 3000 || !strings.Contains(got, "was 60000 characters long; I read only its first 1000") {
		t.Errorf("answer of %d bytes (%s): %.120q…", len(got), outcome, got)
	}
	got, _ = answer(t, r, "@u:x", "!"+strings.Repeat("x", 60000))
	if len(got) > 400 {
		t.Errorf("an unknown long command echoed %d bytes", len(got))
	}
}
