package meetings

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/osbuild/ibbot/internal/store"
)

var meetingStart = time.Date(2026, 12, 5, 15, 0, 0, 0, time.UTC)

// scripted turns "sender: text" lines into a meeting's lines, one a
// minute; a sender marked with * is a room moderator.
func scripted(script ...string) (store.Meeting, []store.MeetingLine) {
	m := store.Meeting{ID: "$l0", RoomID: "!room:example.org", Name: "Image Builder weekly", StartedBy: "@ana:example.org", StartedAt: meetingStart}
	var lines []store.MeetingLine
	for i, s := range script {
		who, text, _ := strings.Cut(s, ": ")
		chair := strings.HasSuffix(who, "*")
		lines = append(lines, store.MeetingLine{MeetingID: m.ID, EventID: fmt.Sprintf("$l%d", i), Seq: int64(i + 1),
			Sender: "@" + strings.TrimSuffix(who, "*") + ":example.org", SaidAt: meetingStart.Add(time.Duration(i) * time.Minute), Body: text, Chair: chair})
	}
	return m, lines
}

func TestMinutesFollowTheLines(t *testing.T) {
	m, lines := scripted(
		"ana*: !startmeeting Image Builder weekly",
		"ana*: !topic Releases",
		"bo: !info composer 120 is out",
		"bo: !topic something else", // not a chair
		"ana*: !chair @bo:example.org",
		"bo: !agreed ship 121 on Monday",
		"cy: !action @bo:example.org @cy:example.org write the release notes",
		"cy: !action update the wiki",
		"cy: !idea a release checklist bot",
		"cy: !link https://osbuild.org/docs/ the docs",
		"cy: !link osbuild.org", // no scheme
		"ana*: !info a mistake",
		"ana*: !undo",
		"ana*: !meetingname Image Builder weekly sync",
		"cy: just talking",
		"cy: !endmeeting", // not a chair
		"ana*: !endmeeting",
	)
	lines[2].Edited, lines[2].Body = true, "!info composer 121 is out" // an edit
	lines[14].Redacted = true                                          // a redaction
	min := Fold(m, lines, "!")
	if min.Name != "Image Builder weekly sync" || !min.Ended || min.EndedBy != "@ana:example.org" {
		t.Errorf("name %q, ended %v by %q", min.Name, min.Ended, min.EndedBy)
	}
	if len(min.Topics) != 1 || min.Topics[0].Title != "Releases" || len(min.Topics[0].Items) != 6 {
		t.Fatalf("topics %+v", min.Topics)
	}
	if it := min.Topics[0].Items[0]; it.Text != "composer 121 is out" {
		t.Errorf("the edited info reads %q", it.Text)
	}
	if len(min.Agreed) != 1 || min.Agreed[0].Text != "ship 121 on Monday" {
		t.Errorf("agreed %+v", min.Agreed)
	}
	if len(min.Actions) != 3 || min.Actions[0].Who != "@bo:example.org" || min.Actions[1].Who != "@cy:example.org" || min.Actions[2].Who != "" ||
		min.Actions[2].Items[0].Text != "update the wiki" {
		t.Errorf("actions %+v", min.Actions)
	}
	if len(min.Links) != 1 || min.Links[0].URL != "https://osbuild.org/docs/" || min.Links[0].Text != "the docs" {
		t.Errorf("links %+v", min.Links)
	}
	for i, want := range map[int]string{3: "only the meeting's chairs", 10: "give an http(s) address", 15: "only the meeting's chairs"} {
		if out := min.Outcomes[fmt.Sprintf("$l%d", i)]; out.OK || !strings.Contains(out.Why, want) {
			t.Errorf("line %d: %+v, want a refusal saying %q", i, out, want)
		}
	}
	if !min.Outcomes["$l5"].OK || !min.Outcomes["$l12"].OK {
		t.Error("a new chair's !agreed, or the !undo, was not taken")
	}
	if len(min.Lines) != len(lines)-1 {
		t.Errorf("the log has %d lines, want the redacted one left out", len(min.Lines))
	}
	if min.People[0].ID != "@ana:example.org" || min.People[0].Lines != 7 || min.People[2].Lines != 6 {
		t.Errorf("people %+v", min.People)
	}
	if strings.Join(min.Chairs, " ") != "@ana:example.org @bo:example.org" {
		t.Errorf("chairs %v", min.Chairs)
	}
}

// TestMentionsNameTheActionsPeople: a client's mention pill reads as a
// display name; the message's mentions say whom it means.
func TestMentionsNameTheActionsPeople(t *testing.T) {
	m, lines := scripted("ana*: !startmeeting x", "ana*: !action Bo: review the PR")
	lines[1].Mentions = []string{"@bo:example.org"}
	if a := Fold(m, lines, "!").Actions; len(a) != 1 || a[0].Who != "@bo:example.org" || a[0].Items[0].Text != "Bo: review the PR" {
		t.Errorf("actions %+v", a)
	}
}
