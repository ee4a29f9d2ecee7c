package github

// Comments: a line in the thread of the item commented on.

import (
	"context"
	"fmt"

	"github.com/osbuild/ibbot/bot"
)

func (r *Relay) comment(ctx context.Context, c Change) error {
	if r.ownComments != nil {
		// A comment someone made from chat (!gh comment) was said where
		// it would be echoed.
		if _, own, err := r.ownComments.Get(ctx, OwnCommentKey(c.Comment.ID)); err != nil || own {
			return err
		}
	}
	for room, mode := range Route(r.subs, c.Item, true) {
		if mode != Show {
			continue
		}
		key := fmt.Sprintf("gh:comment:%s:%d", room, c.Comment.ID)
		root := rootKey(room, c.Item.Key())
		posted, err := r.poster.Posted(ctx, root)
		if err != nil {
			return err
		}
		if posted && !r.noThreads(room) {
			err = r.poster.PostInThread(ctx, key, room, root, RenderComment(c))
		} else {
			err = r.poster.Post(ctx, key, room, RenderComment(c))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Comment is a comment on an issue or pull request.
type Comment struct {
	ID          int64
	Author      string
	Body        string
	URL         string
	Association string // the commenter's author_association (OWNER, MEMBER, COLLABORATOR: a maintainer)
}

// RenderComment shows a comment, cut to a few lines.
func RenderComment(c Change) bot.Reply {
	return new(bot.Msg).Textf("%s commented on %s: ", c.Comment.Author, c.Item.Ref()).
		Text(excerpt(c.Comment.Body, 300)).Text(" ").Link("(comment)", c.Comment.URL).Reply()
}
