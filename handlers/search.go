package handlers

import (
	"context"
	"fmt"
	"strings"

	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/search"
)

// Searcher is the search index, as !search asks it.
type Searcher interface {
	Search(ctx context.Context, q search.Query) (search.Result, error)
	Closest(word string) string
}

// RoomScopes says what a room's questions may be answered from, per kind:
// the lists and repositories it follows (in a direct chat, the config's).
type RoomScopes func(room id.RoomID, direct bool) map[search.Kind][]string

// Search is !search QUESTION: the documentation, the threads of the lists
// the room follows and the issues of the repositories it follows, the
// three best answers each labelled with its kind.
func Search(s Searcher, scopes RoomScopes) bot.Command {
	return bot.Command{
		Name: "search", Aliases: []string{"find"}, Args: "QUESTION", MinArgs: 1, MaxArgs: -1,
		Summary: "find the answer in the documentation, the mailing list and the issues",
		Help: "Looks in the osbuild.org documentation, the threads of the mailing lists this room follows and the issues " +
			"and pull requests of the repositories it follows; `docs` looks in the documentation alone.",
		Example: "search build an ISO from a bootc container",
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			text := strings.Join(req.Args, " ")
			res, err := s.Search(ctx, search.Query{Text: text, Scopes: scopes(req.RoomID, req.Direct), Limit: 3})
			if err != nil {
				return bot.Reply{}, fmt.Errorf("searching: %w", err)
			}
			return say.SearchAnswer(res, say.Asked{Text: text, Where: "the documentation, the list or the issues",
				Again: req.Prefix + "search", Labels: true, Closest: s.Closest}), nil
		},
	}
}
