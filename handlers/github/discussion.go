package github

// Discussions: new ones and their chosen answers: decoding, announcing, rendering.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/osbuild/ibbot/bot"
)

// discussion announces a new discussion as a message of its own, and its
// chosen answer as a line in that message's thread.
func (r *Relay) discussion(ctx context.Context, c Change) error {
	item := "discussion:" + c.Item.Key()
	for room := range Route(r.subs, c.Item, false) {
		root := rootKey(room, item)
		var err error
		switch c.Action {
		case "created":
			err = r.poster.PostRoot(ctx, root, room, RenderDiscussion(c.Item))
		case "answered":
			if c.Answer == nil {
				continue
			}
			err = r.poster.PostInThread(ctx, fmt.Sprintf("gh:answer:%s:%s:%d", room, item, c.Answer.ID), room, root, RenderAnswer(c))
		}
		if err != nil {
			return err
		}
	}
	return nil
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
