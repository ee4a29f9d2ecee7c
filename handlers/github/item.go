// Package github relays GitHub activity (issues, pull requests, releases,
// comments) into rooms, from webhooks and from polling, with the filters
// people ask every such integration for. It also answers issue links in chat.
package github

import (
	"cmp"
	"encoding/json"
	"errors"
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
}

// Review is a review request or a review's verdict on a pull request.
type Review struct {
	ID    int64  // the review's; 0 for a request
	State string // requested, approved, changes_requested
	Who   string // the reviewer (a user, or a team for a request)
	By    string // who asked (for a request)
	URL   string
}

// CIRun is a finished workflow run on a repository's default branch.
type CIRun struct {
	WorkflowID int64
	Workflow   string // its name
	RunID      int64
	RunNumber  int
	Branch     string
	SHA        string
	Conclusion string // success, failure, timed_out, startup_failure, cancelled, ...
	URL        string
}

// Failed reports whether the run counts as a failure (cancelled and
// skipped runs say nothing about the branch).
func (r CIRun) Failed() bool {
	return r.Conclusion == "failure" || r.Conclusion == "timed_out" || r.Conclusion == "startup_failure"
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
		c = Change{Item: pullItem(e.GetRepo().GetFullName(), e.GetPullRequest()), Action: e.GetAction(), Actor: e.GetSender().GetLogin()}
		if e.GetAction() == "review_requested" {
			c.Review = &Review{State: "requested", Who: cmp.Or(e.GetRequestedReviewer().GetLogin(), e.GetRequestedTeam().GetName()),
				By: e.GetSender().GetLogin(), URL: e.GetPullRequest().GetHTMLURL()}
		}
	case *gh.PullRequestReviewEvent:
		state := strings.ToLower(e.GetReview().GetState())
		if e.GetAction() != "submitted" || e.PullRequest == nil || (state != "approved" && state != "changes_requested") {
			return Change{}, false, nil // comments-only reviews come as comments
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
			Comment: &Comment{ID: cm.GetID(), Author: cm.GetUser().GetLogin(), Body: cm.GetBody(), URL: cm.GetHTMLURL()}}
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

// workflowRun is a finished run on the repository's default branch; runs
// on other branches (pull requests, features) are not the room's concern.
func workflowRun(e *gh.WorkflowRunEvent) (Change, bool, error) {
	run := e.GetWorkflowRun()
	if e.GetAction() != "completed" || run == nil || run.GetHeadBranch() != e.GetRepo().GetDefaultBranch() {
		return Change{}, false, nil
	}
	repo := e.GetRepo().GetFullName()
	if repo == "" {
		return Change{}, false, errors.New("workflow_run delivery names no repository")
	}
	name := cmp.Or(e.GetWorkflow().GetName(), run.GetName(), "workflow")
	ci := &CIRun{WorkflowID: cmp.Or(e.GetWorkflow().GetID(), run.GetWorkflowID()), Workflow: name, RunID: run.GetID(),
		RunNumber: run.GetRunNumber(), Branch: run.GetHeadBranch(), SHA: run.GetHeadSHA(), Conclusion: run.GetConclusion(),
		URL: run.GetHTMLURL()}
	it := Item{Repo: repo, Kind: KindCI, Title: name, URL: ci.URL, Author: e.GetSender().GetLogin()}
	return Change{Item: it, Action: "completed", Actor: e.GetSender().GetLogin(), CI: ci}, true, nil
}

// discussionDelivery is what the relay reads of a discussion delivery.
type discussionDelivery struct {
	Action     string `json:"action"`
	Discussion *struct {
		Number    int       `json:"number"`
		Title     string    `json:"title"`
		URL       string    `json:"html_url"`
		CreatedAt time.Time `json:"created_at"`
		User      struct {
			Login string `json:"login"`
			Type  string `json:"type"`
		} `json:"user"`
		Category struct {
			Name string `json:"name"`
		} `json:"category"`
		AnswerURL string `json:"answer_html_url"`
	} `json:"discussion"`
	Answer struct {
		ID   int64  `json:"id"`
		URL  string `json:"html_url"`
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"answer"`
	Repository struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
}

// discussion is a new discussion, or one whose answer was chosen.
func discussion(payload []byte) (Change, bool, error) {
	var e discussionDelivery
	if err := json.Unmarshal(payload, &e); err != nil {
		return Change{}, false, fmt.Errorf("discussion delivery: %w", err)
	}
	d := e.Discussion
	if d == nil || (e.Action != "created" && e.Action != "answered") {
		return Change{}, false, nil
	}
	if e.Repository.FullName == "" {
		return Change{}, false, errors.New("discussion delivery names no repository")
	}
	it := Item{Repo: e.Repository.FullName, Number: d.Number, Kind: KindDiscussion, Title: d.Title, URL: d.URL,
		Author: d.User.Login, AuthorIsBot: d.User.Type == "Bot", Tag: d.Category.Name, CreatedAt: d.CreatedAt}
	c := Change{Item: it, Action: e.Action, Actor: e.Sender.Login}
	if e.Action == "answered" {
		a := e.Answer
		c.Answer = &Comment{ID: a.ID, Author: a.User.Login, Body: a.Body, URL: cmp.Or(a.URL, d.AnswerURL)}
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
