package github

// Releases: one message each, no thread.

import (
	"context"

	gh "github.com/google/go-github/v60/github"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

func (r *Relay) release(ctx context.Context, it Item) error {
	key := it.Key()
	if _, found, err := r.store.Item(ctx, key); err != nil || found {
		return err
	}
	for room, mode := range Route(r.subs, it, false) {
		if mode != Show {
			continue
		}
		if err := r.poster.Post(ctx, "gh:release:"+room+":"+key, room, RenderRelease(it)); err != nil {
			return err
		}
	}
	it.Announced = true
	return r.store.PutItem(ctx, key, store.ItemRow{Data: encodeItem(it)}, r.now())
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
