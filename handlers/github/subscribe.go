package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/roomsettings"
	"github.com/osbuild/ibbot/internal/store"
	"github.com/osbuild/ibbot/internal/suggest"
)

// RoomChoices is where rooms' subscriptions and mutes are kept.
type RoomChoices interface {
	RoomChoices(ctx context.Context, kind string) ([]store.RoomChoice, error)
	PutRoomChoice(ctx context.Context, r store.RoomChoice) error
	DeleteRoomChoice(ctx context.Context, kind, room, target string) error
}

// choiceKind is the kind of the rooms' GitHub choices in the store.
const choiceKind = "github"

// spec is how a room's own subscription is stored.
type spec struct {
	Events  []config.Event     `json:"events"`
	Labels  config.Filter      `json:"labels"`
	Authors config.Filter      `json:"authors"`
	Bots    config.BotPolicy   `json:"bots"`
	Drafts  config.DraftPolicy `json:"drafts"`
}

// LoadRoomRules reads the rooms' choices from the store into rules.
func LoadRoomRules(ctx context.Context, st RoomChoices, rules *Rules) error {
	rows, err := st.RoomChoices(ctx, choiceKind)
	if err != nil {
		return err
	}
	out := make([]RoomRule, 0, len(rows))
	for _, row := range rows {
		rr := RoomRule{Room: id.RoomID(row.RoomID), Repo: row.Target, Muted: row.Muted, By: id.UserID(row.By), At: row.At}
		if !row.Muted {
			var sp spec
			if err := json.Unmarshal([]byte(row.Spec), &sp); err != nil {
				return fmt.Errorf("room %s's subscription of %s does not parse: %w", row.RoomID, row.Target, err)
			}
			rr.Sub = sp.subscription(rr.Room, rr.Repo)
		}
		out = append(out, rr)
	}
	rules.SetRoomRules(out)
	return nil
}

func (sp spec) subscription(room id.RoomID, repo string) config.Subscription {
	return config.Subscription{Rooms: []string{room.String()}, Repos: []string{repo}, Events: sp.Events,
		Labels: sp.Labels, Authors: sp.Authors, Bots: sp.Bots, Drafts: sp.Drafts}
}

// eventWords are the events a subscription may name, in chat as in the
// config.
var eventWords = []config.Event{config.EventIssues, config.EventPulls, config.EventReleases, config.EventComments,
	config.EventCI, config.EventDiscussions, config.EventReviews}

// optionWords are what may start an option, for suggestions.
var optionWords = []string{"issues", "pulls", "releases", "comments", "ci", "discussions", "reviews", "label:", "-label:", "author:", "-author:", "bots:", "drafts:"}

// ParseSubscribe reads `OWNER/REPO [EVENTS...] [label:NAME] [-label:NAME]
// [author:LOGIN] [-author:LOGIN] [bots:show|digest|hide]
// [drafts:show|hide]`. A label with spaces is quoted: label:"good first
// issue". Every problem is reported at once, with a suggestion where one
// is close.
func ParseSubscribe(args []string) (string, spec, error) {
	words := splitQuoted(strings.Join(args, " "))
	sp := spec{Bots: config.BotsDigest, Drafts: config.DraftsHide}
	if len(words) == 0 {
		return "", sp, errors.New("name a repository: OWNER/REPO")
	}
	repo := repoArg(words[0])
	var problems []string
	if !config.ValidRepo(repo, false) {
		problems = append(problems, fmt.Sprintf("%q is not a repository (OWNER/REPO, no wildcards)", words[0]))
	}
	for _, w := range words[1:] {
		if p := sp.apply(w); p != "" {
			problems = append(problems, p)
		}
	}
	if len(sp.Events) == 0 {
		sp.Events = slices.Clone(config.DefaultEvents)
	}
	if len(problems) > 0 {
		return "", sp, errors.New(strings.Join(problems, "; "))
	}
	return repo, sp, nil
}

// repoArg reads a repository as people give it: owner/name, or its
// address on github.com; lowercase.
func repoArg(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(s, "https://github.com/"), "/"))
}

// apply adds one option; it returns what is wrong with it, or "".
func (sp *spec) apply(w string) string {
	key, value, hasValue := strings.Cut(w, ":")
	key = strings.ToLower(key)
	switch {
	case !hasValue && slices.Contains(eventWords, config.Event(key)):
		if !slices.Contains(sp.Events, config.Event(key)) {
			sp.Events = append(sp.Events, config.Event(key))
		}
	case hasValue && value == "":
		return fmt.Sprintf("%q needs a value after the colon", w)
	case key == "label":
		sp.Labels.Include = append(sp.Labels.Include, value)
	case key == "-label":
		sp.Labels.Exclude = append(sp.Labels.Exclude, value)
	case key == "author":
		sp.Authors.Include = append(sp.Authors.Include, value)
	case key == "-author":
		sp.Authors.Exclude = append(sp.Authors.Exclude, value)
	case key == "bots" && slices.Contains([]config.BotPolicy{config.BotsShow, config.BotsDigest, config.BotsHide}, config.BotPolicy(value)):
		sp.Bots = config.BotPolicy(value)
	case key == "drafts" && slices.Contains([]config.DraftPolicy{config.DraftsShow, config.DraftsHide}, config.DraftPolicy(value)):
		sp.Drafts = config.DraftPolicy(value)
	case key == "bots":
		return fmt.Sprintf("bots:%s: say bots:show, bots:digest or bots:hide", value)
	case key == "drafts":
		return fmt.Sprintf("drafts:%s: say drafts:show or drafts:hide", value)
	default:
		return unknownOption(w, key, hasValue)
	}
	return ""
}

func unknownOption(w, key string, hasValue bool) string {
	probe := key
	if hasValue {
		probe += ":"
	}
	if best := suggest.Closest(probe, optionWords); best != "" {
		return fmt.Sprintf("%q is not an option; did you mean %q?", w, best)
	}
	return fmt.Sprintf("%q is not an option (events: issues, pulls, releases, comments, ci, discussions, reviews; filters: label:, -label:, author:, -author:, bots:, drafts:)", w)
}

// splitQuoted splits on spaces, keeping "double quoted" stretches whole
// (without the quotes).
func splitQuoted(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, started := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, started = !quoted, true
		case r == ' ' && !quoted:
			if started {
				out = append(out, cur.String())
			}
			cur.Reset()
			started = false
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		out = append(out, cur.String())
	}
	return out
}

// RepoChecker asks GitHub whether a repository exists.
type RepoChecker func(ctx context.Context, repo string) error

// ErrNoSuchRepo is GitHub saying a repository does not exist (or is
// private).
var ErrNoSuchRepo = errors.New("no such repository")

// RepoExists is a RepoChecker on the GitHub API.
func RepoExists(c *gh.Client) RepoChecker {
	return func(ctx context.Context, repo string) error {
		owner, name, _ := strings.Cut(repo, "/")
		_, resp, err := c.Repositories.Get(ctx, owner, name)
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNoSuchRepo, repo)
		}
		if err != nil {
			return bot.Errorf(err, "I could not ask GitHub about %s: %s; nothing changed", repo, ghclient.Explain(err))
		}
		return nil
	}
}

// Subscriber changes what rooms receive, from chat.
type Subscriber struct {
	Rules    *Rules
	Store    RoomChoices
	Exists   RepoChecker
	Settings *roomsettings.Settings // nil: no room settings in chat
	Now      func() time.Time
}

// GHCommand is !gh: what this room receives, and for room admins, changing
// it.
func GHCommand(s *Subscriber) bot.Command {
	return bot.Command{
		Name: "gh", Args: "subscriptions|subscribe|unsubscribe|settings|default-repo [OWNER/REPO] [OPTIONS...]", MinArgs: 1, MaxArgs: -1,
		Summary: "the GitHub activity this room receives; room admins subscribe and unsubscribe",
		Help: "`gh subscribe OWNER/REPO [issues] [pulls] [releases] [comments] [ci] [discussions] [reviews] [label:NAME] [-label:NAME] [author:LOGIN] " +
			"[-author:LOGIN] [bots:show|digest|hide] [drafts:show|hide]` adds a repository (events default to issues, pulls " +
			"and releases; quote a label with spaces: label:\"good first issue\"). `gh unsubscribe OWNER/REPO` stops it; a " +
			"subscription from the operator's config is muted in this room instead. `gh settings threads on|off` turns the " +
			"lines a state change adds in an item's thread on or off here; `gh default-repo OWNER/REPO` says which " +
			"repository a bare #123 means here. All but subscriptions are for room admins.",
		Example: "gh subscribe osbuild/images pulls label:bug",
		AdminIf: func(args []string) bool { return len(args) > 0 && args[0] != "subscriptions" && args[0] != "subs" },
		Run:     s.run,
	}
}

func (s *Subscriber) run(ctx context.Context, req bot.Request) (bot.Reply, error) {
	switch req.Args[0] {
	case "subscriptions", "subs":
		return s.list(req), nil
	case "subscribe":
		return s.subscribe(ctx, req)
	case "unsubscribe":
		return s.unsubscribe(ctx, req)
	case "settings":
		return s.threads(ctx, req)
	case "default-repo":
		return s.defaultRepo(ctx, req)
	}
	m := new(bot.Msg).Text("unknown ").Code(req.Prefix + "gh " + req.Args[0])
	if best := suggest.Closest(req.Args[0], []string{"subscriptions", "subscribe", "unsubscribe", "settings", "default-repo"}); best != "" {
		m.Text(": did you mean ").Code(req.Prefix + "gh " + best).Text("?")
	}
	return m.Reply(), nil
}

func (s *Subscriber) subscribe(ctx context.Context, req bot.Request) (bot.Reply, error) {
	repo, sp, err := ParseSubscribe(req.Args[1:])
	if err != nil {
		return bot.TextReply("Nothing changed: %s. (%shelp gh shows the options.)", err, req.Prefix), nil
	}
	if err := s.Exists(ctx, repo); err != nil {
		return s.notFound(repo, req, err)
	}
	rr := RoomRule{Room: req.RoomID, Repo: repo, Sub: sp.subscription(req.RoomID, repo), By: req.Sender, At: s.Now()}
	raw, _ := json.Marshal(sp)
	row := store.RoomChoice{Kind: choiceKind, RoomID: req.RoomID.String(), Target: repo, Spec: string(raw), By: req.Sender.String(), At: rr.At}
	if err := s.Store.PutRoomChoice(ctx, row); err != nil {
		return bot.Reply{}, fmt.Errorf("storing the subscription: %w", err)
	}
	s.Rules.Choose(req.RoomID, repo, &rr)
	m := new(bot.Msg).Text(req.Sender.String() + " subscribed this room to ")
	describeRule(m, rr.Sub)
	return m.Reply(), nil
}

func (s *Subscriber) unsubscribe(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) != 2 {
		return bot.TextReply("usage: %sgh unsubscribe OWNER/REPO", req.Prefix), nil
	}
	repo := repoArg(req.Args[1])
	fromConfig, mutes, own := s.Rules.InRoom(req.RoomID)
	hasOwn := slices.ContainsFunc(own, func(r RoomRule) bool { return r.Repo == repo })
	byConfig := slices.ContainsFunc(fromConfig, func(c config.Subscription) bool { return anyGlob(c.Repos, repo) }) &&
		!slices.ContainsFunc(mutes, func(r RoomRule) bool { return r.Repo == repo })
	if !hasOwn && !byConfig {
		return bot.TextReply("This room does not receive %s; %sgh subscriptions lists what it does.", repo, req.Prefix), nil
	}
	if !byConfig {
		if err := s.Store.DeleteRoomChoice(ctx, choiceKind, req.RoomID.String(), repo); err != nil {
			return bot.Reply{}, fmt.Errorf("removing the subscription: %w", err)
		}
		s.Rules.Choose(req.RoomID, repo, nil)
		return bot.TextReply("%s unsubscribed this room from %s.", req.Sender, repo), nil
	}
	mute := RoomRule{Room: req.RoomID, Repo: repo, Muted: true, By: req.Sender, At: s.Now()}
	if err := s.Store.PutRoomChoice(ctx, store.RoomChoice{Kind: choiceKind, RoomID: req.RoomID.String(), Target: repo, Spec: "{}",
		Muted: true, By: req.Sender.String(), At: mute.At}); err != nil {
		return bot.Reply{}, fmt.Errorf("storing the mute: %w", err)
	}
	s.Rules.Choose(req.RoomID, repo, &mute)
	what := "muted " + repo + " in this room"
	if hasOwn {
		what = "unsubscribed this room from " + repo + " and muted it here"
	}
	return bot.TextReply("%s %s: it comes from the operator's config, which stays as it is for other rooms. "+
		"%sgh subscribe %s brings it back.", req.Sender, what, req.Prefix, repo), nil
}

// list is !gh subscriptions: the config's rules for this room (marked,
// with what the room muted) and the room's own (who added them, when).
func (s *Subscriber) list(req bot.Request) bot.Reply {
	fromConfig, mutes, own := s.Rules.InRoom(req.RoomID)
	if len(fromConfig) == 0 && len(own) == 0 {
		return bot.TextReply("This room receives no GitHub activity. Room admins add some with %sgh subscribe OWNER/REPO.", req.Prefix)
	}
	m := new(bot.Msg).Bold("This room receives:")
	for _, c := range fromConfig {
		describeRule(m.Line().Text("• "), c)
		m.Text(" (from the config)")
	}
	for _, mu := range mutes {
		m.Line().Textf("• muted here: %s, by %s on %s", mu.Repo, mu.By, mu.At.UTC().Format("2006-01-02"))
	}
	for _, o := range own {
		describeRule(m.Line().Text("• "), o.Sub)
		m.Textf(" (added by %s on %s)", o.By, o.At.UTC().Format("2006-01-02"))
	}
	return m.Reply()
}

// threads is !gh settings threads on|off.
func (s *Subscriber) threads(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) != 3 || req.Args[1] != "threads" || (req.Args[2] != "on" && req.Args[2] != "off") {
		return bot.TextReply("Nothing changed: say %sgh settings threads on, or %sgh settings threads off.", req.Prefix, req.Prefix), nil
	}
	if s.Settings == nil {
		return bot.TextReply("Room settings are not available here."), nil
	}
	if err := s.Settings.Set(ctx, req.RoomID, "threads", req.Args[2], req.Sender, s.Now()); err != nil {
		return bot.Reply{}, fmt.Errorf("storing the setting: %w", err)
	}
	if req.Args[2] == "on" {
		return bot.TextReply("%s turned thread lines on: a state change edits an item's message and adds a line in its thread.", req.Sender), nil
	}
	return bot.TextReply("%s turned thread lines off: a state change only edits an item's message.", req.Sender), nil
}

// defaultRepo is !gh default-repo OWNER/REPO.
func (s *Subscriber) defaultRepo(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) != 2 {
		return bot.TextReply("Nothing changed: say %sgh default-repo OWNER/REPO.", req.Prefix), nil
	}
	repo := repoArg(req.Args[1])
	if !config.ValidRepo(repo, false) {
		return bot.TextReply("Nothing changed: %q is not a repository (OWNER/REPO).", req.Args[1]), nil
	}
	if s.Settings == nil {
		return bot.TextReply("Room settings are not available here."), nil
	}
	if err := s.Exists(ctx, repo); err != nil {
		return s.notFound(repo, req, err)
	}
	if err := s.Settings.Set(ctx, req.RoomID, "default_repo", repo, req.Sender, s.Now()); err != nil {
		return bot.Reply{}, fmt.Errorf("storing the setting: %w", err)
	}
	return bot.TextReply("%s made %s this room's default repository: #123 here means %s#123.", req.Sender, repo, repo), nil
}

// notFound answers a repository GitHub does not know, suggesting the
// closest one the bot follows; other errors go up.
func (s *Subscriber) notFound(repo string, req bot.Request, err error) (bot.Reply, error) {
	if !errors.Is(err, ErrNoSuchRepo) {
		return bot.Reply{}, err
	}
	m := new(bot.Msg).Textf("Nothing changed: GitHub has no repository %s (or it is private)", repo)
	if best := suggest.Closest(repo, s.Rules.Repos()); best != "" && best != repo {
		m.Text("; did you mean ").Code(best).Text("?")
	} else {
		m.Text("; check the name on github.com.")
	}
	return m.Reply(), nil
}
