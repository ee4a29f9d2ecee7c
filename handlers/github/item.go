package github

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"github.com/osbuild/ibbot/internal/store"
)

// Kind is what an item is.
type Kind string

const (
	KindIssue   Kind = "issue"
	KindPull    Kind = "pull"
	KindRelease Kind = "release"
	// KindCI is a workflow run on a repository's default branch.
	KindCI Kind = "ci"
	// KindDiscussion is a GitHub Discussion.
	KindDiscussion Kind = "discussion"
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
	// Body and Updated travel with a change (a poll's recorded delivery
	// too) for the search; the relay's state keeps neither (encodeItem),
	// the search's document does.
	Body    string    `json:"body,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
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
	// CI is the finished workflow run of a KindCI change.
	CI *CIRun
	// Answer is the chosen answer of an "answered" discussion.
	Answer *Comment
	// Review is a review requested, or submitted with a verdict, on a pull
	// request.
	Review *Review
	// Pull is what the review queue needs of a pull request's delivery
	// (the relay's state keeps none of it).
	Pull *PullFacts
}

// PullFacts are a pull request's facts the review queue reads.
type PullFacts struct {
	Association string // the author's author_association: FIRST_TIME_CONTRIBUTOR, CONTRIBUTOR, NONE, MEMBER, …
	Additions   int
	Deletions   int
	Reviewers   []string // requested reviewers (users and teams)
	HeadSHA     string
}

func pullFacts(pr *gh.PullRequest) *PullFacts {
	f := &PullFacts{Association: pr.GetAuthorAssociation(), Additions: pr.GetAdditions(), Deletions: pr.GetDeletions(), HeadSHA: pr.GetHead().GetSHA()}
	for _, u := range pr.RequestedReviewers {
		f.Reviewers = append(f.Reviewers, u.GetLogin())
	}
	for _, team := range pr.RequestedTeams {
		f.Reviewers = append(f.Reviewers, team.GetName())
	}
	return f
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

// FromWebhook turns a delivery into a change. ok is false for deliveries
// the relay does not act on (pings, pushes, "released" next to
// "published", ...).
func FromWebhook(event string, payload []byte) (c Change, ok bool, err error) {
	if event == "discussion" {
		// go-github v60 cannot decode real discussion deliveries (it
		// takes answer_chosen_by for a string); read what we need.
		return discussion(payload)
	}
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
		c = Change{Item: pullItem(e.GetRepo().GetFullName(), e.GetPullRequest()), Action: e.GetAction(), Actor: e.GetSender().GetLogin(),
			Pull: pullFacts(e.GetPullRequest())}
		if e.GetAction() == "review_requested" {
			c.Review = &Review{State: "requested", Who: cmp.Or(e.GetRequestedReviewer().GetLogin(), e.GetRequestedTeam().GetName()),
				By: e.GetSender().GetLogin(), URL: e.GetPullRequest().GetHTMLURL()}
		}
	case *gh.PullRequestReviewEvent:
		state := strings.ToLower(e.GetReview().GetState())
		if e.GetAction() != "submitted" || e.PullRequest == nil || (state != "approved" && state != "changes_requested" && state != "commented") {
			return Change{}, false, nil
		}
		r := e.GetReview()
		c = Change{Item: pullItem(e.GetRepo().GetFullName(), e.GetPullRequest()), Action: "reviewed", Actor: e.GetSender().GetLogin(),
			Review: &Review{ID: r.GetID(), State: state, Who: r.GetUser().GetLogin(), URL: r.GetHTMLURL()}}
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
			Comment: &Comment{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), Body: cm.GetBody(), URL: cm.GetHTMLURL(),
				Association: cm.GetAuthorAssociation()}}
	case *gh.WorkflowRunEvent:
		return workflowRun(e)
	default:
		return Change{}, false, nil
	}
	if c.Item.Repo == "" {
		return Change{}, false, fmt.Errorf("%s delivery names no repository", event)
	}
	return c, true, nil
}

func encodeItem(it Item) string {
	it.Body, it.Updated = "", time.Time{}
	b, _ := json.Marshal(it)
	return string(b)
}

func decodeItem(s string) (Item, error) {
	var it Item
	err := json.Unmarshal([]byte(s), &it)
	return it, err
}

// fromDelivery reads a recorded delivery: a webhook's, or a change the
// poller found.
func fromDelivery(d store.Delivery) (Change, bool, error) {
	if d.Event != PollEvent {
		return FromWebhook(d.Event, d.Payload)
	}
	var c Change
	if err := json.Unmarshal(d.Payload, &c); err != nil {
		return Change{}, false, fmt.Errorf("a recorded poll result does not parse: %w", err)
	}
	return c, true, nil
}
