package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/internal/testenv"
)

// TestCommandsAgainstDendrite types each kind of command into a real room
// and checks the answer a person would see.
func TestCommandsAgainstDendrite(t *testing.T) {
	s := newStack(t)
	cfg := s.config(s.hs.URL)
	cfg.Matrix.IgnoreUsers = []id.UserID{"@zodbot:localhost"}
	startBot(t, cfg)

	cases := []struct {
		name, say string
		plainHas  []string
		htmlHas   []string
	}{
		{"ping", "!ping", []string{"pong (processed in "}, nil},
		{"help", "!help", []string{"!help [COMMAND]", "!ping", "!version", "!status", "(room admins)"}, []string{"<code>!ping</code>"}},
		{"help ping", "!help ping", []string{"!ping", "Example: `!ping`"}, nil},
		{"unknown with suggestion", "!pnig", []string{"unknown command `!pnig`: did you mean `!ping`?"}, nil},
		{"unknown without suggestion", "!xyzzy", []string{"unknown command `!xyzzy`", "!help"}, nil},
		{"addressed by name", "ibbot: ping", []string{"pong"}, nil},
		{"addressed by user id", s.botUser.UserID.String() + " help ping", []string{"Example: `!ping`"}, nil},
		{"escaped user text", "!<b>@room</b>", []string{"unknown command"}, []string{"&lt;b&gt;"}},
		{"bad arguments", "!help a b c", []string{"usage: `!help [COMMAND]`"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := s.human.MustSay(t, s.room, tc.say)
			answer := s.human.MustWait(t, wait, "answer to "+tc.say, testenv.ReplyTo(cmd))
			checkAnswerShape(t, answer, s)
			msg := answer.Content.AsMessage()
			for _, want := range tc.plainHas {
				if !strings.Contains(msg.Body, want) {
					t.Errorf("body %q lacks %q", msg.Body, want)
				}
			}
			for _, want := range tc.htmlHas {
				if !strings.Contains(msg.FormattedBody, want) {
					t.Errorf("formatted_body %q lacks %q", msg.FormattedBody, want)
				}
			}
			if strings.Contains(strings.ToLower(msg.Body), "@room") {
				t.Errorf("answer %q can ping the room", msg.Body)
			}
		})
	}

	t.Run("in a thread", func(t *testing.T) {
		root := s.human.MustSay(t, s.room, "a thread about builds")
		cmd, err := s.human.SayInThread(context.Background(), s.room, root, "!ping")
		if err != nil {
			t.Fatal(err)
		}
		answer := s.human.MustWait(t, wait, "answer in the thread", testenv.ReplyTo(cmd))
		rel := answer.Content.AsMessage().RelatesTo
		if rel == nil || rel.Type != event.RelThread || rel.EventID != root {
			t.Fatalf("answer is not in the thread of %s: %+v", root, rel)
		}
		if rel.IsFallingBack {
			t.Error("in-thread answer marks its reply as a fallback; it is a real reply")
		}
	})

	t.Run("ignores notices, edits and other bots", func(t *testing.T) {
		otherBot := s.hs.NewUser(t, "zodbot")
		if _, err := otherBot.JoinRoomByID(context.Background(), s.room); err != nil {
			t.Fatal(err)
		}
		fromBot := otherBot.MustSay(t, s.room, "!ping")
		notice := &event.MessageEventContent{MsgType: event.MsgNotice, Body: "!ping"}
		n, err := s.human.SendMessageEvent(context.Background(), s.room, event.EventMessage, notice)
		if err != nil {
			t.Fatal(err)
		}
		orig := s.human.MustSay(t, s.room, "hello")
		edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* !ping",
			NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "!ping"},
			RelatesTo:  (&event.RelatesTo{}).SetReplace(orig)}
		e, err := s.human.SendMessageEvent(context.Background(), s.room, event.EventMessage, edit)
		if err != nil {
			t.Fatal(err)
		}
		s.settle(t)
		if c := s.human.Count(testenv.ReplyTo(n.EventID)); c != 0 {
			t.Error("the bot answered a notice")
		}
		if c := s.human.Count(testenv.ReplyTo(e.EventID)); c != 0 {
			t.Error("the bot answered an edit")
		}
		if c := s.human.Count(testenv.ReplyTo(fromBot)); c != 0 {
			t.Error("the bot answered a user on matrix.ignore_users")
		}
	})
}

// checkAnswerShape asserts what every answer must be: a notice with plain
// and HTML bodies that pings nobody.
func checkAnswerShape(t *testing.T, answer *event.Event, s *stack) {
	t.Helper()
	if answer.Sender != s.botUser.UserID {
		t.Errorf("answer from %s, want the bot", answer.Sender)
	}
	msg := answer.Content.AsMessage()
	if msg.MsgType != event.MsgNotice {
		t.Errorf("answer msgtype %q, want m.notice", msg.MsgType)
	}
	if msg.Format != event.FormatHTML || msg.FormattedBody == "" || msg.Body == "" {
		t.Errorf("answer lacks plain or HTML body: %+v", msg)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(answer.Content.VeryRaw, &raw); err != nil {
		t.Fatal(err)
	}
	if m, ok := raw["m.mentions"]; !ok || string(m) != "{}" {
		t.Errorf("m.mentions = %s, want {}", m)
	}
}
