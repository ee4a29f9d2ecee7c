package github

// Issues and pull requests: one message per item, edited as its state changes, with a line in its thread.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

func (r *Relay) itemChange(ctx context.Context, c Change) error {
	// The search first: a failure leaves the delivery to be processed
	// again, and the same snapshot written twice is no change.
	if err := r.index(ctx, c.Item); err != nil {
		return fmt.Errorf("adding %s to the search: %w", c.Item.Ref(), err)
	}
	key := c.Item.Key()
	row, found, err := r.store.Item(ctx, key)
	if err != nil {
		return err
	}
	now := r.now()
	it := c.Item
	if !found {
		return r.firstSight(ctx, key, c, now)
	}
	old, err := decodeItem(row.Data)
	if err != nil {
		return err
	}
	if old.History && c.Action == "opened" {
		return r.firstSight(ctx, key, c, now) // the poller only guessed it was old
	}
	it.Announced, it.History = old.Announced, old.History
	row.Data = encodeItem(it)
	if !row.DueAt.IsZero() { // still in its aggregation window: keep the freshest snapshot
		return r.store.PutItem(ctx, key, row, now)
	}
	action := transition(old, it, c.Action)
	if action == "" {
		if !old.History && !slices.Equal(sortedLower(old.Labels), sortedLower(it.Labels)) {
			if err := r.announceNewMatches(ctx, old, it); err != nil {
				return err
			}
		}
		return r.store.PutItem(ctx, key, row, now)
	}
	c.Action = action
	row.Version++
	if err := r.announceChange(ctx, it, c, row.Version); err != nil {
		return err
	}
	return r.store.PutItem(ctx, key, row, now)
}

// firstSight handles an item the relay has never seen: a new one waits
// out the aggregation window; one whose first news is a state change is
// announced with its state; anything else is only recorded.
func (r *Relay) firstSight(ctx context.Context, key string, c Change, now time.Time) error {
	it := c.Item
	row := store.ItemRow{}
	switch {
	case c.Action == "opened" || (c.Action == "ready_for_review" && !it.Draft):
		row.DueAt = now.Add(r.window)
	case c.Action == "closed" || c.Action == "reopened" || c.Action == "transferred":
		it.Announced = true
		row.Version = 1
		row.Data = encodeItem(it)
		if err := r.announceChange(ctx, it, c, row.Version); err != nil {
			return err
		}
	default:
		it.Announced, it.History = true, true // only a later change is news
	}
	row.Data = encodeItem(it)
	if err := r.store.PutItem(ctx, key, row, now); err != nil {
		return err
	}
	if !row.DueAt.IsZero() && r.window <= 0 {
		return r.decideOrDrop(ctx, key)
	}
	return nil
}

// transition names the state change between two snapshots, or "".
func transition(old, cur Item, hint string) string {
	switch {
	case hint == "transferred":
		return "transferred"
	case old.State != cur.State && cur.State == "open":
		return "reopened"
	case old.State != cur.State && (cur.State == "closed" || cur.State == "merged"):
		return "closed"
	case old.Draft && !cur.Draft && cur.State == "open":
		return "ready_for_review"
	default:
		return ""
	}
}

func sortedLower(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.ToLower(l)
	}
	slices.Sort(out)
	return out
}

// announceChange edits the item's message in every room that has one and
// adds a line in its thread; rooms that match but never got the item get
// it now, with its new state.
func (r *Relay) announceChange(ctx context.Context, it Item, c Change, version int) error {
	routes := Route(r.subs, it, false)
	c.Item = it
	for _, room := range r.allRooms() {
		root := rootKey(room, it.Key())
		posted, err := r.poster.Posted(ctx, root)
		if err != nil {
			return err
		}
		suffix := fmt.Sprintf(":%s:v%d", it.Key(), version)
		switch {
		case posted:
			if err := r.poster.Edit(ctx, "gh:edit:"+room+suffix, room, root, RenderItem(it)); err != nil {
				return err
			}
			if !r.noThreads(room) {
				if err := r.poster.PostInThread(ctx, "gh:line:"+room+suffix, room, root, RenderLine(c)); err != nil {
					return err
				}
			}
		case routes[room] == Show:
			if err := r.poster.PostRoot(ctx, root, room, RenderItem(it)); err != nil {
				return err
			}
		}
	}
	return nil
}

// announceNewMatches posts the item in the rooms where the change from
// old to it (a label added or taken away) made it match: a room it
// matched before has had its chance, whether it was shown there or not.
func (r *Relay) announceNewMatches(ctx context.Context, old, it Item) error {
	before := Route(r.subs, old, false)
	for room, mode := range Route(r.subs, it, false) {
		if mode != Show || before[room] == Show {
			continue
		}
		if err := r.poster.PostRoot(ctx, rootKey(room, it.Key()), room, RenderItem(it)); err != nil {
			return err
		}
	}
	return nil
}

func issueItem(repo string, is *gh.Issue) Item {
	it := Item{
		Repo: repo, Number: is.GetNumber(), Kind: KindIssue, Title: is.GetTitle(), URL: is.GetHTMLURL(),
		Author: is.GetUser().GetLogin(), AuthorIsBot: isBot(is.GetUser()), Labels: labelNames(is.Labels),
		State: is.GetState(), StateReason: is.GetStateReason(),
		CreatedAt: is.GetCreatedAt().Time, ClosedAt: is.GetClosedAt().Time,
		Body: is.GetBody(), Updated: is.GetUpdatedAt().Time,
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
		Body: pr.GetBody(), Updated: pr.GetUpdatedAt().Time,
	}
	if pr.GetMerged() || !pr.GetMergedAt().IsZero() {
		it.State = "merged"
	}
	return it
}

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
