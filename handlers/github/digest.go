package github

// The digest: bot pull requests summed up per repository.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/store"
)

// FlushDigests posts one digest per room and repository for the bot pull
// requests that waited since the last one.
func (r *Relay) FlushDigests(ctx context.Context) error {
	entries, err := r.store.Digests(ctx)
	if err != nil {
		return err
	}
	type group struct{ room, repo string }
	byGroup := map[group][]store.DigestEntry{}
	var order []group
	for _, e := range entries {
		g := group{e.Room, strings.ToLower(e.Repo)}
		if _, seen := byGroup[g]; !seen {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], e)
	}
	var errs []error
	for _, g := range order {
		es := byGroup[g]
		var shown []DigestEntry
		var keys []string
		for _, e := range es {
			shown = append(shown, DigestEntry{Title: e.Title, URL: e.URL, Ref: "#" + e.ItemKey[strings.LastIndexByte(e.ItemKey, '#')+1:]})
			keys = append(keys, e.ItemKey)
		}
		key := fmt.Sprintf("gh:digest:%s:%s:%d", g.room, g.repo, es[0].AddedAt.UnixMilli())
		if err := r.poster.Post(ctx, key, g.room, RenderDigest(es[0].Repo, shown)); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, r.store.DropDigest(ctx, g.room, keys))
	}
	r.lastDigest = r.now()
	return errors.Join(errs...)
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
