package handlers

import (
	"context"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/catalog"
)

// Contact tells how to reach the team. The mailing list is shown only when
// the operator configured one (the project dropped its list in 2025).
func Contact(cat *catalog.Catalog, mailingList string) bot.Command {
	return bot.Command{
		Name: "contact", Aliases: []string{"support", "reach"},
		Summary: "how to reach the team",
		Run: func(context.Context, bot.Request) (bot.Reply, error) {
			m := new(bot.Msg).Bold("Reaching the " + cat.Project + " team").Line()
			for _, c := range cat.Contact {
				m.Text("• " + c.Name + ": ")
				if c.Text != "" {
					m.Text(c.Text + " ")
				}
				if c.URL != "" {
					m.Link(c.URL, c.URL)
				}
				m.Line()
			}
			if mailingList != "" {
				m.Text("• Mailing list: ").Link(mailingList, "mailto:"+mailingList).Line()
			}
			return m.Reply(), nil
		},
	}
}
