package app

import (
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers"
	"github.com/osbuild/ibbot/handlers/docs"
	ghrelay "github.com/osbuild/ibbot/handlers/github"
	"github.com/osbuild/ibbot/handlers/mail"
	"github.com/osbuild/ibbot/internal/search"
	"github.com/osbuild/ibbot/internal/store"
)

// followInterval is how often a replica's index reads what the others
// wrote; on the leader, writes wake it at once.
const followInterval = 10 * time.Second

// searchParts is the room's memory: the index every replica keeps in
// memory and the follower that keeps it in step with the store.
type searchParts struct {
	index    *search.Index
	follower *search.Follower
}

func newSearch(st *store.DB, log zerolog.Logger, now func() time.Time) (*searchParts, error) {
	index, err := search.New()
	if err != nil {
		return nil, err
	}
	return &searchParts{index: index, follower: &search.Follower{Store: st, Index: index, Interval: followInterval,
		Log: log.With().Str("component", "search").Logger(), Now: now}}, nil
}

// wrote tells this replica's index that a source wrote.
func (p *searchParts) wrote() { p.follower.Wake() }

// startSearch runs the follower on every replica, and on the leader the
// documentation sources.
func startSearch(s *services, cfg config.Search, gh *github.Client) {
	p := s.search
	s.board.Add(p.follower)
	s.goRun(p.follower.Run)
	for _, d := range cfg.Docs {
		w := &docs.Watcher{Name: d.Name(), Folder: docsFolder(d, gh), Base: d.URL, Store: s.store, Interval: cfg.Refresh,
			Wrote: p.wrote, Log: s.log.With().Str("component", "docs").Str("docs", d.Name()).Logger(), Now: s.now}
		s.board.Add(w)
		s.leaderWork = append(s.leaderWork, w.Run)
	}
}

func docsFolder(d config.DocsSource, gh *github.Client) docs.Folder {
	if d.Dir != "" {
		return docs.NewLocalFolder(d.Dir)
	}
	owner, repo, _ := strings.Cut(d.Repo, "/")
	return &docs.GitHubFolder{Client: gh, Owner: owner, Repo: repo, Ref: d.Ref, Path: d.Folder()}
}

// roomScopes says what a room's questions are answered from: the lists
// and repositories it follows (in a direct chat, the config's), and the
// documentation.
func roomScopes(lists *mail.Lists, subs *ghrelay.Subscriptions) handlers.RoomScopes {
	return func(room id.RoomID, direct bool) map[search.Kind][]string {
		out := map[search.Kind][]string{search.Issue: ghrelay.FollowedRepos(subs, room, direct)}
		if lists != nil {
			out[search.Mail] = mail.Followed(lists, room, direct)
		}
		return out
	}
}

// closeSearch frees the index when the bot stops.
func (p *searchParts) close() { p.index.Close() }
