// Package github relays GitHub activity (issues, pull requests, releases,
// comments) into rooms, from webhooks and from polling, with the filters
// people ask every such integration for. It also answers issue links in chat.
package github

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Kind is what an item is.
type Kind string

const (
	KindIssue   Kind = "issue"
	KindPull    Kind = "pull"
	KindRelease Kind = "release"
)

// Item is an issue, pull request or release as the relay knows it.
type Item struct {
	Repo        string    `json:"repo"` // owner/name as GitHub spells it
	Number      int       `json:"number"`
	Kind        Kind      `json:"kind"`
	Title       string    `json:"title"`
	URL         string    `json:"url"`
	Author      string    `json:"author"`
	AuthorIsBot bool      `json:"author_is_bot"`
	Labels      []string  `json:"labels"`
	Draft       bool      `json:"draft"`
	State       string    `json:"state"`        // open, closed, merged, published
	StateReason string    `json:"state_reason"` // completed, not_planned
	Tag         string    `json:"tag,omitempty"`
	Prerelease  bool      `json:"prerelease,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ClosedAt    time.Time `json:"closed_at"`
	// Announced marks an item the relay has decided about (announced or
	// filtered out after its aggregation window).
	Announced bool `json:"announced"`
	// History marks an item first seen by the poller as already old; a
	// webhook "opened" for it is still news.
	History bool `json:"history,omitempty"`
}

// Key names the item in the store and in message keys.
func (it Item) Key() string {
	if it.Kind == KindRelease {
		return strings.ToLower(it.Repo) + "@" + it.Tag
	}
	return fmt.Sprintf("%s#%d", strings.ToLower(it.Repo), it.Number)
}

// Ref is how people write the item: osbuild/osbuild#12.
func (it Item) Ref() string {
	if it.Kind == KindRelease {
		return it.Repo + " " + it.Tag
	}
	return fmt.Sprintf("%s#%d", it.Repo, it.Number)
}

// Change is one thing that happened to an item, from a webhook or a poll.
type Change struct {
	Item    Item
	Action  string // opened, closed, reopened, ready_for_review, converted_to_draft, labeled, unlabeled, edited, transferred, published, commented, snapshot
	Actor   string
	Comment *Comment
	// NewRepo is where a transferred issue went.
	NewRepo string
}

// Comment is a comment on an issue or pull request.
type Comment struct {
	ID     int64
	Author string
	Body   string
	URL    string
}

func isBot(u *gh.User) bool {
	return u.GetType() == "Bot" || strings.HasSuffix(u.GetLogin(), "[bot]")
}

func labelNames(ls []*gh.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.GetName())
	}
	return out
}

func issueItem(repo string, is *gh.Issue) Item {
	it := Item{
		Repo: repo, Number: is.GetNumber(), Kind: KindIssue, Title: is.GetTitle(), URL: is.GetHTMLURL(),
		Author: is.GetUser().GetLogin(), AuthorIsBot: isBot(is.GetUser()), Labels: labelNames(is.Labels),
		State: is.GetState(), StateReason: is.GetStateReason(),
		CreatedAt: is.GetCreatedAt().Time, ClosedAt: is.GetClosedAt().Time,
	}
	if is.IsPullRequest() {
		it.Kind = KindPull
		it.Draft = is.GetDraft()
		if !is.GetPullRequestLinks().GetMergedAt().IsZero() {
			it.State = "merged"
		}
	}
	return it
}

func pullItem(repo string, pr *gh.PullRequest) Item {
	it := Item{
		Repo: repo, Number: pr.GetNumber(), Kind: KindPull, Title: pr.GetTitle(), URL: pr.GetHTMLURL(),
		Author: pr.GetUser().GetLogin(), AuthorIsBot: isBot(pr.GetUser()), Labels: labelNames(pr.Labels),
		Draft: pr.GetDraft(), State: pr.GetState(), CreatedAt: pr.GetCreatedAt().Time, ClosedAt: pr.GetClosedAt().Time,
	}
	if pr.GetMerged() || !pr.GetMergedAt().IsZero() {
		it.State = "merged"
	}
	return it
}

func releaseItem(repo string, r *gh.RepositoryRelease) Item {
	title := r.GetName()
	if title == "" {
		title = r.GetTagName()
	}
	return Item{
		Repo: repo, Kind: KindRelease, Title: title, URL: r.GetHTMLURL(), Tag: r.GetTagName(),
		Author: r.GetAuthor().GetLogin(), AuthorIsBot: isBot(r.GetAuthor()), State: "published",
		Prerelease: r.GetPrerelease(), CreatedAt: r.GetPublishedAt().Time,
	}
}

// FromWebhook turns a delivery into a change. ok is false for deliveries
// the relay does not act on (pings, pushes, "released" next to
// "published", ...).
func FromWebhook(event string, payload []byte) (c Change, ok bool, err error) {
	parsed, err := gh.ParseWebHook(event, payload)
	if err != nil {
		return Change{}, false, fmt.Errorf("%s delivery: %w", event, err)
	}
	missing := func(what string) (Change, bool, error) {
		return Change{}, false, fmt.Errorf("%s delivery without its %s", event, what)
	}
	switch e := parsed.(type) {
	case *gh.IssuesEvent:
		if e.Issue == nil {
			return missing("issue")
		}
		c = Change{Item: issueItem(e.GetRepo().GetFullName(), e.GetIssue()), Action: e.GetAction(), Actor: e.GetSender().GetLogin()}
		if e.GetAction() == "transferred" {
			// go-github v60 does not decode changes.new_repository.
			var t struct {
				Changes struct {
					NewRepository struct {
						FullName string `json:"full_name"`
					} `json:"new_repository"`
				} `json:"changes"`
			}
			json.Unmarshal(payload, &t)
			c.NewRepo = t.Changes.NewRepository.FullName
		}
	case *gh.PullRequestEvent:
		if e.PullRequest == nil {
			return missing("pull_request")
		}
		c = Change{Item: pullItem(e.GetRepo().GetFullName(), e.GetPullRequest()), Action: e.GetAction(), Actor: e.GetSender().GetLogin()}
	case *gh.ReleaseEvent:
		if e.GetAction() != "published" {
			return Change{}, false, nil // "released" and "prereleased" come with "published": announce once
		}
		if e.Release == nil {
			return missing("release")
		}
		c = Change{Item: releaseItem(e.GetRepo().GetFullName(), e.GetRelease()), Action: "published", Actor: e.GetSender().GetLogin()}
	case *gh.IssueCommentEvent:
		if e.GetAction() != "created" {
			return Change{}, false, nil
		}
		if e.Issue == nil || e.Comment == nil {
			return missing("issue or comment")
		}
		cm := e.GetComment()
		c = Change{Item: issueItem(e.GetRepo().GetFullName(), e.GetIssue()), Action: "commented", Actor: e.GetSender().GetLogin(),
			Comment: &Comment{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), Body: cm.GetBody(), URL: cm.GetHTMLURL()}}
	default:
		return Change{}, false, nil
	}
	if c.Item.Repo == "" {
		return Change{}, false, fmt.Errorf("%s delivery names no repository", event)
	}
	return c, true, nil
}

func encodeItem(it Item) string {
	b, _ := json.Marshal(it)
	return string(b)
}

func decodeItem(s string) (Item, error) {
	var it Item
	err := json.Unmarshal([]byte(s), &it)
	return it, err
}
