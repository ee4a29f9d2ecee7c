package github

// Reviews: requests and verdicts, as lines in an announced pull request's thread.

import (
	"context"
	"fmt"
	"strings"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
)

// review adds a line about a review request or verdict in the thread of a
// pull request the room was told about (and says nothing of others).
func (r *Relay) review(ctx context.Context, c Change) error {
	rv := c.Review
	if rv.State == "commented" {
		return nil // a review of comments only: its comments come as comments; the review queue counts it
	}
	for room, mode := range RouteEvent(r.subs, c.Item, config.EventReviews) {
		root := rootKey(room, c.Item.Key())
		posted, err := r.poster.Posted(ctx, root)
		if err != nil {
			return err
		}
		if mode != Show || !posted || r.noThreads(room) {
			continue
		}
		key := fmt.Sprintf("gh:review:%s:%s:%s:%s:%d", room, c.Item.Key(), rv.State, strings.ToLower(rv.Who), rv.ID)
		if err := r.poster.PostInThread(ctx, key, room, root, RenderReview(c)); err != nil {
			return err
		}
	}
	return nil
}

// Review is a review request or a review's verdict on a pull request.
type Review struct {
	ID    int64  // the review's; 0 for a request
	State string // requested, approved, changes_requested
	Who   string // the reviewer (a user, or a team for a request)
	By    string // who asked (for a request)
	URL   string
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
