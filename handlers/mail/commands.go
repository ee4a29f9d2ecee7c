package mail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/search"
	"github.com/osbuild/ibbot/internal/suggest"
)

// ListSubscriber changes which lists rooms receive, from chat.
type ListSubscriber struct {
	Lists *Lists
	// Allowed are the lists rooms may subscribe to (mail.allowed_lists,
	// by default mail.list_id).
	Allowed []string
	Now     func() time.Time
}

// normalizeListID reads a List-Id as people paste it: the id, or the
// header's "Name <id>" form.
func normalizeListID(s string) string {
	if i, j := strings.LastIndex(s, "<"), strings.LastIndex(s, ">"); i >= 0 && j > i {
		s = s[i+1 : j]
	}
	return strings.ToLower(strings.Trim(s, "<> "))
}

// validListID: RFC 2919's list-id is a dot-atom with at least one dot.
func validListID(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune(".-_+=!#$%&'*/?^`{|}~", r)) {
			return false
		}
	}
	return true
}

func (s *ListSubscriber) subscribe(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	if !hasList(s.Allowed, list) {
		return bot.TextReply("Nothing changed: this bot relays only the mailing lists its operator allows (%s), and %s is not one of them; "+
			"the operator can add it to mail.allowed_lists.", strings.Join(s.Allowed, ", "), list)
	}
	if err := s.Lists.Subscribe(ctx, roomscope.Choice[NoFilter]{Room: req.RoomID, Target: list, By: req.Sender, At: s.Now()}); err != nil {
		return bot.TextReply("Nothing changed: %v.", err)
	}
	return bot.TextReply("%s subscribed this room to the mailing list %s: its new threads come here from now on.", req.Sender, list)
}

// unsubscribe takes back a list the room subscribed to itself; what the
// config sends is muted only by !ml mute.
func (s *ListSubscriber) unsubscribe(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	view := s.Lists.InRoom(req.RoomID)
	if _, own := view.OwnOf(list); own {
		if err := s.Lists.Unsubscribe(ctx, req.RoomID, list); err != nil {
			return bot.TextReply("Nothing changed: %v.", err)
		}
		return bot.TextReply("%s unsubscribed this room from the mailing list %s.", req.Sender, list)
	}
	if view.ConfigSends(list) {
		return bot.TextReply("Nothing changed: the mailing list %s comes to this room from the operator's config. %sml mute %s mutes it here.",
			list, req.Prefix, list)
	}
	return bot.TextReply("This room does not receive the mailing list %s.", list)
}

// mute silences here a list the config sends the room.
func (s *ListSubscriber) mute(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	view := s.Lists.InRoom(req.RoomID)
	switch {
	case view.Muted(list):
		return bot.TextReply("The mailing list %s is already muted in this room.", list)
	case !view.ConfigSends(list):
		return bot.TextReply("Nothing to mute: the operator's config sends this room nothing of %s (%sml unsubscribe takes back the room's own lists).",
			list, req.Prefix)
	}
	if err := s.Lists.Mute(ctx, roomscope.Choice[NoFilter]{Room: req.RoomID, Target: list, By: req.Sender, At: s.Now()}); err != nil {
		return bot.TextReply("Nothing changed: %v.", err)
	}
	return bot.TextReply("%s muted the mailing list %s in this room: it comes from the operator's config, which stays as it is for other rooms. %sml unmute %s lifts it.",
		req.Sender, list, req.Prefix, list)
}

// unmute lifts a mute.
func (s *ListSubscriber) unmute(ctx context.Context, req bot.Request) bot.Reply {
	list, problem := s.listArg(req)
	if problem != "" {
		return bot.TextReply("Nothing changed: %s", problem)
	}
	if !s.Lists.InRoom(req.RoomID).Muted(list) {
		return bot.TextReply("The mailing list %s is not muted in this room.", list)
	}
	if err := s.Lists.Unmute(ctx, req.RoomID, list); err != nil {
		return bot.TextReply("Nothing changed: %v.", err)
	}
	return bot.TextReply("%s unmuted the mailing list %s: its threads come to this room again.", req.Sender, list)
}

// listArg reads the LIST-ID argument; a problem (with a suggestion) when
// it is missing or malformed.
func (s *ListSubscriber) listArg(req bot.Request) (string, string) {
	if len(req.Args) != 2 {
		return "", fmt.Sprintf("name one list: %sml %s LIST-ID (its List-Id header, e.g. image-builder.lists.example.org)", req.Prefix, req.Args[0])
	}
	list := normalizeListID(req.Args[1])
	if !validListID(list) {
		msg := fmt.Sprintf("%q is not a List-Id (like image-builder.lists.example.org)", req.Args[1])
		if best := suggest.Closest(list, s.Lists.ConfigTargets()); best != "" {
			msg += fmt.Sprintf("; did you mean %s?", best)
		}
		return "", msg
	}
	return list, ""
}

// Threads is !ml: the latest threads with reply counts and links, or a
// search of their text.
func Threads(st Store, now func() time.Time, subs *ListSubscriber, index Searcher, replier *Replier) bot.Command {
	return bot.Command{
		Name: "ml", Aliases: []string{"threads", "list"}, Args: "[search WORDS | reply TEXT | link ADDRESS | verify CODE | subscribe|unsubscribe|mute|unmute LIST-ID]", MaxArgs: -1,
		Summary: "the latest threads of the mailing lists this room follows, or search their text (subjects, mails, authors); room admins route lists here",
		Help: "`ml subscribe LIST-ID` brings a mailing list the operator allows to this room (its List-Id header, e.g. " +
			"image-builder.lists.example.org); `ml unsubscribe LIST-ID` takes it back. `ml mute LIST-ID` mutes here a list the " +
			"operator's config sends (`ml unmute` lifts it). These are for room admins. In a direct chat, `ml` answers about " +
			"the lists the operator's config relays. `ml reply TEXT`, in a relayed mail's thread, answers it on the list " +
			"(for the people the operator allows, once they linked an address with `ml link ADDRESS` and `ml verify CODE`).",
		Example: "ml search blueprint",
		AdminIf: func(args []string) bool {
			return len(args) > 0 && slices.Contains([]string{"subscribe", "unsubscribe", "mute", "unmute"}, args[0])
		},
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			if len(req.Args) > 0 {
				switch req.Args[0] {
				case "subscribe":
					return subs.subscribe(ctx, req), nil
				case "unsubscribe":
					return subs.unsubscribe(ctx, req), nil
				case "mute":
					return subs.mute(ctx, req), nil
				case "unmute":
					return subs.unmute(ctx, req), nil
				case "reply", "link", "verify":
					return replyCommand(ctx, replier, req)
				}
				if req.Args[0] != "search" || len(req.Args) < 2 {
					return bot.TextReply("usage: %sml, %sml search WORDS, or (room admins) %sml subscribe|unsubscribe|mute|unmute LIST-ID",
						req.Prefix, req.Prefix, req.Prefix), nil
				}
			}
			return listThreads(ctx, st, subs.Lists, index, req)
		},
	}
}

// replyCommand runs !ml reply, link and verify, when replying from chat
// is set up.
func replyCommand(ctx context.Context, r *Replier, req bot.Request) (bot.Reply, error) {
	if r == nil {
		return bot.TextReply("Replying to the list from chat is not set up here (the operator's mail.smtp and mail.chat_replies)."), nil
	}
	switch req.Args[0] {
	case "reply":
		return r.Reply(ctx, req)
	case "link":
		return r.Link(ctx, req)
	}
	return r.Verify(ctx, req)
}

// listThreads answers !ml and !ml search about the lists the room follows
// (in a direct chat, the config's), never another room's.
func listThreads(ctx context.Context, st Store, lists *Lists, index Searcher, req bot.Request) (bot.Reply, error) {
	query := ""
	if len(req.Args) > 1 {
		query = strings.Join(req.Args[1:], " ")
	}
	followed := Followed(lists, req.RoomID, req.Direct)
	if len(followed) == 0 {
		return bot.TextReply("This room follows no mailing list. Room admins bring one here with %sml subscribe LIST-ID.", req.Prefix), nil
	}
	scope := followed
	if slices.ContainsFunc(lists.ConfigTargets(), func(l string) bool { return hasList(followed, l) }) {
		scope = append(slices.Clone(followed), "") // threads relayed before their list was kept came through the config's
	}
	if query != "" && index != nil {
		return searchThreads(ctx, index, followed, scope, query, req)
	}
	rows, err := st.MailThreads(ctx, query, scope, 10)
	if err != nil {
		return bot.Reply{}, fmt.Errorf("listing threads: %w", err)
	}
	if len(rows) == 0 {
		if query != "" {
			return bot.TextReply("No relayed thread of %s has %q in its subject.", strings.Join(followed, ", "), query), nil
		}
		return bot.TextReply("No thread of %s has been relayed yet.", strings.Join(followed, ", ")), nil
	}
	m := new(bot.Msg).Bold("Mailing-list threads")
	if query != "" {
		m.Textf(" matching %q", query)
	}
	for _, t := range rows {
		m.Line().Text("• ")
		if t.ArchiveURL != "" {
			m.Link(t.Subject, t.ArchiveURL)
		} else {
			m.Text(t.Subject)
		}
		m.Textf(" — %s, %s, %s", t.Author, t.SentAt.UTC().Format("2006-01-02"), plural(t.Replies, "reply", "replies"))
	}
	return m.Reply(), nil
}

// Searcher is the search index, as !ml search asks it.
type Searcher interface {
	Search(ctx context.Context, q search.Query) (search.Result, error)
	Closest(word string) string
}

// searchThreads answers !ml search from the threads' text: subjects,
// bodies and authors, the three that fit best.
func searchThreads(ctx context.Context, index Searcher, followed, scope []string, query string, req bot.Request) (bot.Reply, error) {
	scopes := slices.Clone(scope)
	for i, s := range scopes {
		if s == "" {
			scopes[i] = legacyScope
		}
	}
	res, err := index.Search(ctx, search.Query{Text: query, Kinds: []search.Kind{search.Mail}, Scopes: map[search.Kind][]string{search.Mail: scopes}, Limit: 3})
	if err != nil {
		return bot.Reply{}, fmt.Errorf("searching the threads: %w", err)
	}
	return say.SearchAnswer(res, say.Asked{Text: query, Where: "the threads of " + strings.Join(followed, ", "),
		Again: req.Prefix + "ml search", Closest: index.Closest}), nil
}
