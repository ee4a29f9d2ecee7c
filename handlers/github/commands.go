package github

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/roomscope"
	"github.com/osbuild/ibbot/internal/suggest"
)

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
func ParseSubscribe(args []string) (string, Filter, error) {
	words := splitQuoted(strings.Join(args, " "))
	sp := Filter{Bots: config.BotsDigest, Drafts: config.DraftsHide}
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
func (sp *Filter) apply(w string) string {
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

// ErrNoSuchRepo is GitHub saying a repository does not exist (or is
// private to the bot's token).
var ErrNoSuchRepo = errors.New("no such repository")

// Subscriber changes what rooms receive, from chat.
type Subscriber struct {
	Subs     *Subscriptions
	Lookup   RepoLookup
	Scope    Scope
	Settings *roomscope.Settings // nil: no room settings in chat
	Now      func() time.Time
	Acting   *Acting // nil: acting as oneself is not set up
}

// GHCommand is !gh: what this room receives, and for room admins, changing
// it.
func GHCommand(s *Subscriber) bot.Command {
	return bot.Command{
		Name: "gh", Args: "subscriptions|subscribe|unsubscribe|mute|unmute|settings|default-repo|login|logout|whoami|comment|label|close|reopen|assign|issue …", MinArgs: 1, MaxArgs: -1,
		Summary: "the GitHub activity this room receives; room admins subscribe, unsubscribe and mute",
		Help: "`gh subscribe OWNER/REPO [issues] [pulls] [releases] [comments] [ci] [discussions] [reviews] [label:NAME] [-label:NAME] [author:LOGIN] " +
			"[-author:LOGIN] [bots:show|digest|hide] [drafts:show|hide]` adds a repository the operator allows (events default to issues, pulls " +
			"and releases; quote a label with spaces: label:\"good first issue\"). `gh unsubscribe OWNER/REPO [EVENTS...]` takes back what " +
			"this room added, all of it or the events named. `gh mute OWNER/REPO` mutes here what the operator's config sends of a " +
			"repository (`gh unmute` lifts it). `gh settings threads on|off` turns the " +
			"lines a state change adds in an item's thread on or off here; `gh default-repo OWNER/REPO` says which " +
			"repository a bare #123 means here. All but subscriptions are for room admins. As yourself, once logged in with " +
			"`gh login` (in a direct chat): `gh comment [REF] TEXT`, `gh label [REF] +NAME -NAME`, `gh close [REF] [completed|not_planned]`, " +
			"`gh reopen [REF]`, `gh assign [REF] @LOGIN…`, `gh issue OWNER/REPO TITLE` (the text on the following lines), `gh whoami`, " +
			"`gh logout`; REF is OWNER/REPO#N or #N, or left out in an announced item's thread.",
		Example: "gh subscribe osbuild/images pulls label:bug",
		AdminIf: func(args []string) bool { return len(args) > 0 && !slices.Contains(everyone, args[0]) },
		Run:     s.run,
	}
}

// everyone are the !gh subcommands that need no room admin: reading the
// subscriptions, and acting on GitHub as oneself.
var everyone = []string{"subscriptions", "subs", "login", "logout", "whoami", "comment", "label", "close", "reopen", "assign", "issue"}

func (s *Subscriber) run(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if slices.Contains(everyone[2:], req.Args[0]) {
		return s.act(ctx, req)
	}
	switch req.Args[0] {
	case "subscriptions", "subs":
		return s.list(req), nil
	case "subscribe":
		return s.subscribe(ctx, req)
	case "unsubscribe":
		return s.unsubscribe(ctx, req)
	case "mute":
		return s.mute(ctx, req)
	case "unmute":
		return s.unmute(ctx, req)
	case "settings":
		return s.threads(ctx, req)
	case "default-repo":
		return s.defaultRepo(ctx, req)
	}
	m := new(bot.Msg).Text("unknown ").Code(req.Prefix + "gh " + req.Args[0])
	if best := suggest.Closest(req.Args[0], []string{"subscriptions", "subscribe", "unsubscribe", "mute", "unmute", "settings", "default-repo"}); best != "" {
		m.Text(": did you mean ").Code(req.Prefix + "gh " + best).Text("?")
	}
	return m.Reply(), nil
}

func (s *Subscriber) subscribe(ctx context.Context, req bot.Request) (bot.Reply, error) {
	repo, sp, err := ParseSubscribe(req.Args[1:])
	if err != nil {
		return bot.TextReply("Nothing changed: %s. (%shelp gh shows the options.)", err, req.Prefix), nil
	}
	if why, err := s.refusal(ctx, repo); err != nil || why != "" {
		return s.notFound(repo, why, req, err)
	}
	if err := s.Subs.Subscribe(ctx, roomscope.Choice[Filter]{Room: req.RoomID, Target: repo, Filter: sp, By: req.Sender, At: s.Now()}); err != nil {
		return bot.Reply{}, err
	}
	m := new(bot.Msg).Text(req.Sender.String() + " subscribed this room to ")
	describeRule(m, []string{repo}, sp)
	if s.Subs.InRoom(req.RoomID).Muted(repo) {
		m.Text(". What the operator's config sends of " + repo + " stays muted here (").Code(req.Prefix + "gh unmute " + repo).Text(" lifts it)")
	}
	return m.Reply(), nil
}

// refusal says why a room may not follow repo (out of scope, or private
// and not named by the config), or ""; err is GitHub's answer otherwise.
func (s *Subscriber) refusal(ctx context.Context, repo string) (string, error) {
	if why := s.Scope.refusal(repo, RepoFacts{}); why != "" {
		return why, nil // GitHub need not be asked
	}
	facts, err := s.Lookup(ctx, repo)
	if err != nil {
		return "", err
	}
	return s.Scope.refusal(repo, facts), nil
}

// unsubscribe takes back the room's own subscription of a repository,
// all of it or the events named; it never touches the config's.
func (s *Subscriber) unsubscribe(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) < 2 {
		return bot.TextReply("usage: %sgh unsubscribe OWNER/REPO [EVENTS...]", req.Prefix), nil
	}
	repo := repoArg(req.Args[1])
	drop, err := eventArgs(req.Args[2:])
	if err != nil {
		return bot.TextReply("Nothing changed: %s.", err), nil
	}
	view := s.Subs.InRoom(req.RoomID)
	own, ok := view.OwnOf(repo)
	if !ok {
		if view.ConfigSends(repo) {
			return new(bot.Msg).Textf("Nothing changed: %s comes to this room from the operator's config, not from a subscription of its own. ", repo).
				Code(req.Prefix + "gh mute " + repo).Text(" mutes it here.").Reply(), nil
		}
		return bot.TextReply("This room does not receive %s; %sgh subscriptions lists what it does.", repo, req.Prefix), nil
	}
	left := slices.DeleteFunc(slices.Clone(own.Filter.Events), func(e config.Event) bool { return len(drop) == 0 || slices.Contains(drop, e) })
	if len(left) == len(own.Filter.Events) {
		return bot.TextReply("Nothing changed: this room's own subscription of %s has none of %s.", repo, joinEvents(drop)), nil
	}
	if len(left) == 0 {
		if err := s.Subs.Unsubscribe(ctx, req.RoomID, repo); err != nil {
			return bot.Reply{}, err
		}
		return bot.TextReply("%s unsubscribed this room from %s%s.", req.Sender, repo, s.configStill(req.RoomID, repo)), nil
	}
	own.Filter.Events = left
	if err := s.Subs.Subscribe(ctx, own); err != nil {
		return bot.Reply{}, err
	}
	return bot.TextReply("%s unsubscribed this room from %s of %s; it still gets %s of it.", req.Sender, joinEvents(drop), repo, joinEvents(left)), nil
}

// configStill notes what the config still sends the room of repo.
func (s *Subscriber) configStill(room id.RoomID, repo string) string {
	if s.Subs.InRoom(room).Follows(repo) {
		return " (what the operator's config sends of it still comes)"
	}
	return ""
}

// mute silences in this room what the config sends it of a repository.
func (s *Subscriber) mute(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) != 2 {
		return bot.TextReply("usage: %sgh mute OWNER/REPO", req.Prefix), nil
	}
	repo := repoArg(req.Args[1])
	view := s.Subs.InRoom(req.RoomID)
	switch {
	case view.Muted(repo):
		return bot.TextReply("%s is already muted in this room.", repo), nil
	case !view.ConfigSends(repo):
		return bot.TextReply("Nothing to mute: the operator's config sends this room nothing of %s (%sgh unsubscribe takes back the room's own subscriptions).", repo, req.Prefix), nil
	}
	if err := s.Subs.Mute(ctx, roomscope.Choice[Filter]{Room: req.RoomID, Target: repo, By: req.Sender, At: s.Now()}); err != nil {
		return bot.Reply{}, err
	}
	return bot.TextReply("%s muted %s in this room: what the operator's config sends of it no longer comes here (the config stays as it is "+
		"for other rooms, and a subscription of the room's own still comes). %sgh unmute %s lifts it.", req.Sender, repo, req.Prefix, repo), nil
}

// unmute lifts a mute.
func (s *Subscriber) unmute(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) != 2 {
		return bot.TextReply("usage: %sgh unmute OWNER/REPO", req.Prefix), nil
	}
	repo := repoArg(req.Args[1])
	if !s.Subs.InRoom(req.RoomID).Muted(repo) {
		return bot.TextReply("%s is not muted in this room.", repo), nil
	}
	if err := s.Subs.Unmute(ctx, req.RoomID, repo); err != nil {
		return bot.Reply{}, err
	}
	return bot.TextReply("%s unmuted %s: what the operator's config sends of it comes to this room again.", req.Sender, repo), nil
}

// eventArgs reads event names (unsubscribe's), all checked at once.
func eventArgs(words []string) ([]config.Event, error) {
	var out []config.Event
	var problems []string
	for _, w := range words {
		ev := config.Event(strings.ToLower(w))
		if !slices.Contains(eventWords, ev) {
			problems = append(problems, unknownOption(w, strings.ToLower(w), false))
			continue
		}
		out = append(out, ev)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

func joinEvents(evs []config.Event) string {
	words := make([]string, len(evs))
	for i, e := range evs {
		words[i] = string(e)
	}
	return strings.Join(words, ", ")
}

// list is !gh subscriptions: the config's rules for this room (marked,
// with what the room muted) and the room's own (who added them, when).
func (s *Subscriber) list(req bot.Request) bot.Reply {
	view := s.Subs.InRoom(req.RoomID)
	if len(view.FromConfig) == 0 && len(view.Own) == 0 {
		return bot.TextReply("This room receives no GitHub activity. Room admins add some with %sgh subscribe OWNER/REPO.", req.Prefix)
	}
	m := new(bot.Msg).Bold("This room receives:")
	for _, r := range view.FromConfig {
		describeRule(m.Line().Text("• "), r.Targets, r.Filter)
		m.Text(" (from the config)")
	}
	for _, mu := range view.Mutes {
		m.Line().Textf("• muted here: %s, by %s on %s", mu.Target, mu.By, mu.At.UTC().Format("2006-01-02"))
	}
	for _, o := range view.Own {
		describeRule(m.Line().Text("• "), []string{o.Target}, o.Filter)
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

// act runs what people do on GitHub as themselves.
func (s *Subscriber) act(ctx context.Context, req bot.Request) (bot.Reply, error) {
	a := s.Acting
	if a == nil {
		return bot.TextReply("Acting on GitHub as yourself is not set up here (the operator's github.oauth.client_id)."), nil
	}
	switch req.Args[0] {
	case "login":
		return a.People.Login(ctx, req)
	case "logout":
		return a.People.Logout(ctx, req)
	case "whoami":
		return a.People.Whoami(ctx, req)
	case "comment":
		return a.Comment(ctx, req)
	case "label":
		return a.Label(ctx, req)
	case "close", "reopen":
		return a.SetState(ctx, req)
	case "assign":
		return a.Assign(ctx, req)
	}
	return a.Issue(ctx, req)
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
	if why, err := s.refusal(ctx, repo); err != nil || why != "" {
		return s.notFound(repo, why, req, err)
	}
	if err := s.Settings.Set(ctx, req.RoomID, "default_repo", repo, req.Sender, s.Now()); err != nil {
		return bot.Reply{}, fmt.Errorf("storing the setting: %w", err)
	}
	return bot.TextReply("%s made %s this room's default repository: #123 here means %s#123.", req.Sender, repo, repo), nil
}

// notFound answers a refusal, or a repository GitHub does not know,
// suggesting the closest one the bot follows; other errors go up.
func (s *Subscriber) notFound(repo, refusal string, req bot.Request, err error) (bot.Reply, error) {
	if refusal != "" {
		return bot.TextReply("Nothing changed: %s.", refusal), nil
	}
	if !errors.Is(err, ErrNoSuchRepo) {
		return bot.Reply{}, err
	}
	m := new(bot.Msg).Textf("Nothing changed: GitHub has no repository %s (or it is private)", repo)
	if best := suggest.Closest(repo, s.Subs.Targets(nil)); best != "" && best != repo {
		m.Text("; did you mean ").Code(best).Text("?")
	} else {
		m.Text("; check the name on github.com.")
	}
	return m.Reply(), nil
}

func joinReplies(rs []bot.Reply) bot.Reply {
	out := rs[0]
	for _, r := range rs[1:] {
		out.Plain += "\n" + r.Plain
		out.HTML += "<br>" + r.HTML
	}
	return out
}

// IssueCommand is !issue repo#123: the same preview, on demand.
func IssueCommand(c *gh.Client, links *Links) bot.Command {
	return bot.Command{
		Name: "issue", Aliases: []string{"pr"}, Args: "OWNER/REPO#NUMBER", MinArgs: 1, MaxArgs: 1,
		Summary: "show an issue or pull request: title, state, author, link",
		Example: "issue osbuild/osbuild-composer#4512",
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			refs := ParseRefs(" "+req.Args[0], links.DefaultRepo(req.RoomID))
			if len(refs) == 0 {
				return bot.TextReply("%q is not an issue reference; write OWNER/REPO#NUMBER.", req.Args[0]), nil
			}
			if !links.MayRead(req.RoomID, refs[0].Repo) {
				return bot.TextReply("I look up issues only of the repositories this room follows (%sgh subscriptions lists them); %s is not one.",
					req.Prefix, refs[0].Repo), nil
			}
			it, err := FetchItem(ctx, c, refs[0])
			if ghclient.IsNotFound(err) {
				return bot.TextReply("%s has no issue or pull request #%d (or it is private).", refs[0].Repo, refs[0].Number), nil
			}
			if err != nil {
				return bot.Reply{}, bot.Errorf(err, "I could not read %s#%d: %s", refs[0].Repo, refs[0].Number, ghclient.Explain(err))
			}
			return RenderLink(it), nil
		},
	}
}
