package github

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/osbuild/ibbot/bot"
)

// RenderItem is the one message an issue or pull request gets: repo,
// number, title, kind, author, labels and current state. State changes
// edit it.
func RenderItem(it Item) bot.Reply {
	m := new(bot.Msg).Bold(it.Ref()).Text(" ").Link(it.Title, it.URL)
	kind := "issue"
	if it.Kind == KindPull {
		kind = "pull request"
		if it.Draft {
			kind = "draft pull request"
		}
	}
	m.Textf(" · %s by %s", kind, it.Author)
	if len(it.Labels) > 0 {
		m.Text(" · ")
		for i, l := range it.Labels {
			if i > 0 {
				m.Text(" ")
			}
			m.Code(l)
		}
	}
	if s := stateText(it); s != "" {
		m.Text(" · ").Bold(s)
	}
	return m.Reply()
}

func stateText(it Item) string {
	switch it.State {
	case "merged":
		return "merged"
	case "closed":
		if it.StateReason == "not_planned" {
			return "closed as not planned"
		}
		if it.Kind == KindPull {
			return "closed without merging"
		}
		return "closed"
	default:
		return ""
	}
}

// RenderLine is the short line a state change adds in the item's thread.
func RenderLine(c Change) bot.Reply {
	m := new(bot.Msg)
	switch c.Action {
	case "closed":
		m.Text(strings.ToUpper(stateText(c.Item)[:1]) + stateText(c.Item)[1:])
	case "reopened":
		m.Text("Reopened")
	case "ready_for_review":
		m.Text("Ready for review")
	case "transferred":
		m.Text("Transferred to " + c.NewRepo)
	default:
		m.Text(c.Action)
	}
	if c.Actor != "" {
		m.Text(" by " + c.Actor)
	}
	return m.Reply()
}

// RenderRelease announces a published release.
func RenderRelease(it Item) bot.Reply {
	m := new(bot.Msg).Bold(it.Repo).Text(" released ").Link(it.Tag, it.URL)
	if it.Title != "" && it.Title != it.Tag {
		m.Text(": " + it.Title)
	}
	if it.Prerelease {
		m.Text(" (pre-release)")
	}
	return m.Reply()
}

// RenderComment shows a comment, cut to a few lines.
func RenderComment(c Change) bot.Reply {
	return new(bot.Msg).Textf("%s commented on %s: ", c.Comment.Author, c.Item.Ref()).
		Text(excerpt(c.Comment.Body, 300)).Text(" ").Link("(comment)", c.Comment.URL).Reply()
}

// DigestEntry is one bot pull request waiting for the digest.
type DigestEntry struct {
	Title string
	URL   string
	Ref   string
}

// RenderDigest sums up bot pull requests of one repository.
func RenderDigest(repo string, entries []DigestEntry) bot.Reply {
	noun := "dependency update"
	if len(entries) != 1 {
		noun += "s"
	}
	m := new(bot.Msg).Bold(fmt.Sprintf("%d %s", len(entries), noun)).Text(" in " + repo + ":")
	for _, e := range entries {
		m.Line().Text("• ").Link(e.Ref, e.URL).Text(" " + e.Title)
	}
	return m.Reply()
}

// RenderLink is the preview an issue link in chat gets.
func RenderLink(it Item) bot.Reply {
	state := it.State
	if s := stateText(it); s != "" {
		state = s
	}
	kind := "issue"
	if it.Kind == KindPull {
		kind = "pull request"
	}
	return new(bot.Msg).Bold(it.Ref()).Text(" ").Link(it.Title, it.URL).
		Textf(" · %s by %s · %s", kind, it.Author, state).Reply()
}

// excerpt keeps the first n characters of text on one line.
func excerpt(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)
	return strings.TrimSpace(string(r[:n])) + "…"
}

// RenderCIFailure says a workflow started failing on the default branch.
func RenderCIFailure(c Change) bot.Reply {
	run := c.CI
	m := new(bot.Msg).Text("✗ CI: ").Bold(run.Workflow).Textf(" failed on %s of ", run.Branch).Bold(c.Item.Repo).Text(" · ").
		Link(fmt.Sprintf("run #%d", run.RunNumber), run.URL).Textf(" (%s) at ", strings.ReplaceAll(run.Conclusion, "_", " ")).
		Code(shortSHA(run.SHA))
	return m.Reply()
}

// RenderCIFixed says a failing workflow passes again.
func RenderCIFixed(c Change) bot.Reply {
	run := c.CI
	return new(bot.Msg).Text("✓ CI fixed: ").Bold(run.Workflow).Textf(" passed again on %s of ", run.Branch).Bold(c.Item.Repo).
		Text(" · ").Link(fmt.Sprintf("run #%d", run.RunNumber), run.URL).Text(" at ").Code(shortSHA(run.SHA)).Reply()
}

func shortSHA(sha string) string { return sha[:min(len(sha), 7)] }

// RenderDiscussion is a new discussion's message.
func RenderDiscussion(it Item) bot.Reply {
	m := new(bot.Msg).Bold(fmt.Sprintf("%s discussion #%d", it.Repo, it.Number)).Text(" ").Link(it.Title, it.URL).
		Textf(" · by %s", it.Author)
	if it.Tag != "" {
		m.Text(" in ").Code(it.Tag)
	}
	return m.Reply()
}

// RenderAnswer is the line a chosen answer adds in the discussion's thread.
func RenderAnswer(c Change) bot.Reply {
	return new(bot.Msg).Text("✓ ").Link("answered", c.Answer.URL).Textf(" by %s", c.Answer.Author).Reply()
}

// RenderReview is the thread line of a review request or verdict.
func RenderReview(c Change) bot.Reply {
	rv := c.Review
	m := new(bot.Msg)
	switch rv.State {
	case "requested":
		m.Textf("review requested from %s by %s", rv.Who, rv.By)
	case "approved":
		m.Text("✓ ").Link("approved", rv.URL).Textf(" by %s", rv.Who)
	default:
		m.Text("✗ ").Link("changes requested", rv.URL).Textf(" by %s", rv.Who)
	}
	return m.Reply()
}
