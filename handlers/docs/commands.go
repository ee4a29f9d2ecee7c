package docs

import (
	"context"
	"fmt"
	"strings"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/search"
)

// Searcher is the search index, as the commands ask it.
type Searcher interface {
	Search(ctx context.Context, q search.Query) (search.Result, error)
	Closest(word string) string
}

// Command is !docs QUERY: the sections of the documentation that answer
// best, each linked to its place on the site.
func Command(s Searcher) bot.Command {
	return bot.Command{
		Name: "docs", Aliases: []string{"doc", "howto"}, Args: "QUESTION", MinArgs: 1, MaxArgs: -1,
		Summary: "find the answer in the osbuild.org documentation",
		Help: "Ask in your own words; the answer links the three sections that fit best, with the words found in bold. " +
			"Typos are forgiven; `search` looks in the mailing list and the issues too.",
		Example: "docs add a user to a blueprint",
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			text := strings.Join(req.Args, " ")
			res, err := s.Search(ctx, search.Query{Text: text, Kinds: []search.Kind{search.Docs}, Limit: 3})
			if err != nil {
				return bot.Reply{}, fmt.Errorf("searching the documentation: %w", err)
			}
			return say.SearchAnswer(res, say.Asked{Text: text, Where: "the documentation", Again: req.Prefix + "docs", Closest: s.Closest}), nil
		},
	}
}
