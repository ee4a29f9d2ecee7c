package github

// CI: a workflow that starts failing on a default branch, and passes again: decoding, announcing, rendering.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	gh "github.com/google/go-github/v60/github"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

// ci announces a workflow that starts failing on a repository's default
// branch, once (later failing runs of it say nothing new), and "fixed"
// once when it passes again. The state per workflow is kept with the
// items, so a restart or a redelivery announces nothing twice.
func (r *Relay) ci(ctx context.Context, c Change) error {
	run := *c.CI
	key := fmt.Sprintf("ci:%s:%d", strings.ToLower(c.Item.Repo), run.WorkflowID)
	row, _, err := r.store.Item(ctx, key)
	if err != nil {
		return err
	}
	failing := strings.HasPrefix(row.Data, "failing")
	var reply bot.Reply
	var msgKey string
	switch {
	case c.Item.History:
		// The first poll of a repository: where each workflow stands,
		// not news.
	case run.Failed() && !failing:
		reply, msgKey = RenderCIFailure(c), fmt.Sprintf("gh:ci:%s:%d:failed", key, run.RunID)
	case run.Conclusion == "success" && failing:
		reply, msgKey = RenderCIFixed(c), fmt.Sprintf("gh:ci:%s:%d:fixed", key, run.RunID)
	default:
		return nil // still failing, still passing, or a run that says nothing (cancelled)
	}
	if c.Item.History {
		return r.store.PutItem(ctx, key, store.ItemRow{Data: ciState(run)}, r.now())
	}
	for room := range Route(r.subs, c.Item, false) {
		if err := r.poster.Post(ctx, msgKey+":"+room, room, reply); err != nil {
			return err
		}
	}
	return r.store.PutItem(ctx, key, store.ItemRow{Data: ciState(run)}, r.now())
}

// ciState is how a workflow stands after run.
func ciState(run CIRun) string {
	if run.Failed() {
		return fmt.Sprintf("failing:%d", run.RunID)
	}
	return "passing"
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
