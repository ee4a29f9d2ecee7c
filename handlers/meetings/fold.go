package meetings

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/osbuild/ibbot/internal/store"
)

// Kinds of minutes items, as the commands that make them are named.
const (
	KindTopic  = "topic"
	KindInfo   = "info"
	KindAction = "action"
	KindAgreed = "agreed"
	KindIdea   = "idea"
	KindLink   = "link"
)

// Item is one thing the minutes record: a topic, an info, an action, an
// agreement, an idea or a link, with the line that made it.
type Item struct {
	Kind    string
	Text    string
	Who     []string // an action's people (Matrix ids or names as typed)
	URL     string   // a link's address
	EventID string
	Sender  string
	At      time.Time
}

// Topic is a topic and what was said under it; the first has no title
// when items came before any topic.
type Topic struct {
	Title   string
	EventID string
	At      time.Time
	Items   []Item
}

// Person is someone who spoke, with their line count.
type Person struct {
	ID    string
	Lines int
}

// Actions are one person's action items.
type Actions struct {
	Who   string // "" for the unassigned ones
	Items []Item
}

// Outcome is what a command line did: taken, or refused with a reason.
type Outcome struct {
	Command string
	OK      bool
	Why     string
}

// Minutes are a meeting made sense of: everything follows from its lines
// (as edited, redactions left out), so an edit or a redaction changes
// them, and a replay of the same lines gives the same minutes.
type Minutes struct {
	Meeting  store.Meeting
	Name     string
	Chairs   []string
	People   []Person
	Topics   []Topic
	Agreed   []Item
	Actions  []Actions // per person, in the order first named; unassigned last
	Links    []Item
	Lines    []store.MeetingLine // the log, redacted lines left out
	Outcomes map[string]Outcome  // by event id, for the commands' answers
	Ended    bool                // an !endmeeting was taken
	EndedBy  string
}

// chairOnly are the commands only a chair may give, as MeetBot had it.
var chairOnly = []string{"topic", "agreed", "undo", "meetingname", "chair", "unchair", "endmeeting"}

// Fold reads a meeting's lines into its minutes; prefix is the command
// prefix ("!").
func Fold(m store.Meeting, lines []store.MeetingLine, prefix string) *Minutes {
	f := &folder{min: &Minutes{Meeting: m, Name: m.Name, Outcomes: map[string]Outcome{}, Lines: make([]store.MeetingLine, 0, len(lines))},
		prefix: prefix, chairs: []string{m.StartedBy}}
	for _, l := range lines {
		if l.Redacted {
			continue
		}
		f.min.Lines = append(f.min.Lines, l)
		f.count(l.Sender)
		f.line(l)
	}
	f.finish()
	return f.min
}

type folder struct {
	min    *Minutes
	prefix string
	chairs []string
	items  []Item // in order; topics among them
	counts map[string]int
	order  []string
}

func (f *folder) count(who string) {
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	if f.counts[who] == 0 {
		f.order = append(f.order, who)
	}
	f.counts[who]++
}

func (f *folder) isChair(l store.MeetingLine) bool {
	return l.Chair || slices.Contains(f.chairs, l.Sender)
}

// line applies one line: a command changes the minutes, anything else is
// only logged.
func (f *folder) line(l store.MeetingLine) {
	name, rest, ok := command(l.Body, f.prefix)
	if !ok || f.min.Ended {
		return
	}
	if slices.Contains(chairOnly, name) && !f.isChair(l) {
		f.min.Outcomes[l.EventID] = Outcome{Command: name, Why: "only the meeting's chairs can use " + f.prefix + name + " (" + f.chairList() + ")"}
		return
	}
	why := f.apply(name, rest, l)
	if why == "-" {
		return // not a meeting command
	}
	f.min.Outcomes[l.EventID] = Outcome{Command: name, OK: why == "", Why: why}
}

// apply runs a command; it returns why it was refused, "" when taken, or
// "-" for a command meetings do not know.
func (f *folder) apply(name, rest string, l store.MeetingLine) string {
	item := Item{Kind: name, Text: rest, EventID: l.EventID, Sender: l.Sender, At: l.SaidAt}
	switch name {
	case "startmeeting":
		if l.EventID != f.min.Meeting.ID {
			return "a meeting runs here already: " + f.min.Name
		}
	case "endmeeting":
		f.min.Ended, f.min.EndedBy = true, l.Sender
	case "meetingname":
		if rest == "" {
			return "give the name: " + f.prefix + "meetingname NAME"
		}
		f.min.Name = rest
	case "chair", "unchair":
		people := mentioned(rest)
		if len(people) == 0 {
			return "name the people: " + f.prefix + name + " @user:server"
		}
		for _, p := range people {
			f.chairs = slices.DeleteFunc(f.chairs, func(c string) bool { return c == p })
			if name == "chair" {
				f.chairs = append(f.chairs, p)
			}
		}
	case "undo":
		if len(f.items) == 0 {
			return "there is nothing to undo"
		}
		f.items = f.items[:len(f.items)-1]
	case KindTopic, KindInfo, KindAgreed, KindIdea:
		if rest == "" {
			return "say what: " + f.prefix + name + " TEXT"
		}
		f.items = append(f.items, item)
	case "agree":
		return f.apply(KindAgreed, rest, l)
	case KindAction:
		item.Who, item.Text = splitPeople(rest)
		if len(item.Who) == 0 {
			// A client's mention pill reads as a display name in the
			// text; whom it means is in the message's mentions.
			item.Who = l.Mentions
		}
		if item.Text == "" {
			return "say what is to be done: " + f.prefix + "action [@user…] TEXT"
		}
		f.items = append(f.items, item)
	case KindLink:
		url, text, _ := strings.Cut(rest, " ")
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return "give an http(s) address first: " + f.prefix + "link URL [TEXT]"
		}
		item.URL, item.Text = url, strings.TrimSpace(text)
		f.items = append(f.items, item)
	default:
		return "-"
	}
	return ""
}

// finish groups the items: under their topics, agreed ones, actions per
// person (unassigned last), links; and lists chairs and people.
func (f *folder) finish() {
	m := f.min
	m.Chairs = f.chairs
	for _, who := range f.order {
		m.People = append(m.People, Person{ID: who, Lines: f.counts[who]})
	}
	for _, it := range f.items {
		if it.Kind == KindTopic {
			m.Topics = append(m.Topics, Topic{Title: it.Text, EventID: it.EventID, At: it.At})
			continue
		}
		if len(m.Topics) == 0 {
			m.Topics = append(m.Topics, Topic{})
		}
		last := &m.Topics[len(m.Topics)-1]
		last.Items = append(last.Items, it)
		switch it.Kind {
		case KindAgreed:
			m.Agreed = append(m.Agreed, it)
		case KindLink:
			m.Links = append(m.Links, it)
		case KindAction:
			m.addAction(it)
		}
	}
	if i := slices.IndexFunc(m.Actions, func(a Actions) bool { return a.Who == "" }); i >= 0 {
		un := m.Actions[i]
		m.Actions = append(slices.Delete(m.Actions, i, i+1), un)
	}
}

func (m *Minutes) addAction(it Item) {
	who := it.Who
	if len(who) == 0 {
		who = []string{""}
	}
	for _, p := range who {
		i := slices.IndexFunc(m.Actions, func(a Actions) bool { return a.Who == p })
		if i < 0 {
			m.Actions = append(m.Actions, Actions{Who: p})
			i = len(m.Actions) - 1
		}
		m.Actions[i].Items = append(m.Actions[i].Items, it)
	}
}

func (f *folder) chairList() string { return strings.Join(f.chairs, ", ") }

// command reads "!name rest" (name lower case); false for ordinary text.
func command(body, prefix string) (name, rest string, ok bool) {
	body = strings.TrimSpace(body)
	if prefix == "" || !strings.HasPrefix(body, prefix) {
		return "", "", false
	}
	name, rest, _ = strings.Cut(body[len(prefix):], " ")
	name = strings.ToLower(strings.TrimSpace(name))
	return name, strings.TrimSpace(rest), name != ""
}

// splitPeople takes the people an action names first (@user:server
// tokens, a trailing ":" or "," allowed) from its text.
func splitPeople(rest string) (who []string, text string) {
	words := strings.Fields(rest)
	i := 0
	for ; i < len(words); i++ {
		w := strings.TrimRight(words[i], ":,")
		if !isUserID(w) {
			break
		}
		if !slices.Contains(who, w) {
			who = append(who, w)
		}
	}
	return who, strings.Join(words[i:], " ")
}

// mentioned are the @user:server ids in s.
func mentioned(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if w = strings.TrimRight(w, ":,."); isUserID(w) && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func isUserID(w string) bool {
	local, server, ok := strings.Cut(strings.TrimPrefix(w, "@"), ":")
	return strings.HasPrefix(w, "@") && ok && local != "" && server != ""
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}
