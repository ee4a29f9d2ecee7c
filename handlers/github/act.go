package github

// Acting as a person: !gh comment, label, close, reopen, assign, issue.

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v60/github"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
)

// Acting runs the commands people give GitHub through ibbot, as
// themselves: only on repositories the operator allows, the answer linking
// what was done, a refusal explained.
type Acting struct {
	People *People
	Scope  Scope  // the repositories the operator allows
	Links  *Links // a room's default repository (a bare #123)
	Events interface {
		KeysOfEvent(ctx context.Context, eventID string) ([]string, error)
	}
	// Own marks what people did from chat (their comments), so the relay
	// does not echo it in the thread where it was said.
	Own interface {
		Put(ctx context.Context, key, value string) error
	}
}

// OwnCommentKey marks a comment made from chat.
func OwnCommentKey(id int64) string { return "gh.own.comment." + strconv.FormatInt(id, 10) }

var refWord = regexp.MustCompile(`^(?:([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+))?#(\d+)$`)

// target reads the REF a command starts with (OWNER/REPO#N, or #N in the
// room's default repository), else the item whose thread the command was
// said in. rest is the command's text after it.
func (a *Acting) target(ctx context.Context, req bot.Request) (ref Ref, rest string, ok bool, err error) {
	text := afterWords(req.Body, 2) // "!gh comment", then the rest
	first, _, _ := strings.Cut(strings.TrimLeft(text, " \t"), " ")
	first, _, _ = strings.Cut(first, "\n")
	if m := refWord.FindStringSubmatch(first); m != nil {
		n, _ := strconv.Atoi(m[2])
		repo := m[1]
		if repo == "" && a.Links != nil {
			repo = a.Links.DefaultRepo(req.RoomID)
		}
		if repo == "" {
			return Ref{}, "", false, nil
		}
		return Ref{Repo: repo, Number: n}, strings.TrimSpace(strings.TrimPrefix(strings.TrimLeft(text, " \t"), first)), true, nil
	}
	if req.ThreadRoot == "" || a.Events == nil {
		return Ref{}, text, false, nil
	}
	keys, err := a.Events.KeysOfEvent(ctx, req.ThreadRoot.String())
	if err != nil {
		return Ref{}, "", false, err
	}
	for _, k := range keys {
		if r, ok := refOfRootKey(k, req.RoomID); ok {
			return r, strings.TrimSpace(text), true, nil
		}
	}
	return Ref{}, text, false, nil
}

// refOfRootKey reads the item of an announcement's key.
func refOfRootKey(key string, room id.RoomID) (Ref, bool) {
	item, ok := strings.CutPrefix(key, "gh:root:")
	if !ok {
		return Ref{}, false
	}
	i := strings.LastIndex(item, ":")
	item = item[i+1:]
	repo, num, ok := strings.Cut(item, "#")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return Ref{}, false
	}
	return Ref{Repo: repo, Number: n}, true
}

// afterWords is s after its first n words, line breaks kept.
func afterWords(s string, n int) string {
	s = strings.TrimLeft(s, " \t")
	for range n {
		i := strings.IndexAny(s, " \t\n")
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i:], " \t")
	}
	return s
}

// prepare finds the client and the item, or says why not.
func (a *Acting) prepare(ctx context.Context, req bot.Request, usage string) (*gh.Client, string, Ref, string, *bot.Reply, error) {
	client, login, ok, err := a.People.As(ctx, req.Sender)
	if err != nil {
		return nil, "", Ref{}, "", nil, err
	}
	if !ok {
		r := bot.TextReply("You are not logged in to GitHub here; %sgh login, in a direct chat with me, lets me act as you.", req.Prefix)
		return nil, "", Ref{}, "", &r, nil
	}
	ref, rest, found, err := a.target(ctx, req)
	if err != nil {
		return nil, "", Ref{}, "", nil, err
	}
	if !found {
		r := bot.TextReply("usage: %sgh %s (REF is OWNER/REPO#N, or #N with this room's default repository; in an announced item's thread it may be left out)", req.Prefix, usage)
		return nil, "", Ref{}, "", &r, nil
	}
	if !a.Scope.Allows(ref.Repo) {
		r := bot.TextReply("Not done: %s is not among the repositories this bot may act on (the operator's github.allowed_repos).", ref.Repo)
		return nil, "", Ref{}, "", &r, nil
	}
	return client, login, ref, rest, nil, nil
}

// refused answers a GitHub error in a sentence; a revoked token is
// forgotten.
func (a *Acting) refused(ctx context.Context, req bot.Request, what string, err error) (bot.Reply, error) {
	var er *gh.ErrorResponse
	if asErr(err, &er) && er.Response != nil && er.Response.StatusCode == 401 {
		if ferr := a.People.Store.ForgetPerson(ctx, req.Sender.String()); ferr != nil {
			return bot.Reply{}, ferr
		}
	}
	return bot.TextReply("Not done (%s): %s.", what, explain(err)), nil
}

// Comment is !gh comment [REF] TEXT.
func (a *Acting) Comment(ctx context.Context, req bot.Request) (bot.Reply, error) {
	client, login, ref, text, stop, err := a.prepare(ctx, req, "comment [REF] TEXT")
	if stop != nil || err != nil {
		return deref(stop), err
	}
	if text == "" {
		return bot.TextReply("usage: %sgh comment [REF] TEXT", req.Prefix), nil
	}
	owner, repo, _ := strings.Cut(ref.Repo, "/")
	c, _, err := client.Issues.CreateComment(ctx, owner, repo, ref.Number, &gh.IssueComment{Body: gh.String(text)})
	if err != nil {
		return a.refused(ctx, req, "commenting on "+refString(ref), err)
	}
	if a.Own != nil {
		if err := a.Own.Put(ctx, OwnCommentKey(c.GetID()), req.Sender.String()); err != nil {
			return bot.Reply{}, err
		}
	}
	return new(bot.Msg).Textf("💬 %s commented on ", login).Link(refString(ref), c.GetHTMLURL()).Text(".").Reply(), nil
}

// Label is !gh label [REF] +name -name.
func (a *Acting) Label(ctx context.Context, req bot.Request) (bot.Reply, error) {
	client, login, ref, rest, stop, err := a.prepare(ctx, req, "label [REF] +NAME -NAME")
	if stop != nil || err != nil {
		return deref(stop), err
	}
	add, remove := labelChanges(rest)
	if len(add)+len(remove) == 0 {
		return bot.TextReply("usage: %sgh label [REF] +NAME -NAME (quote a name with spaces: +\"good first issue\")", req.Prefix), nil
	}
	owner, repo, _ := strings.Cut(ref.Repo, "/")
	if len(add) > 0 {
		if _, _, err := client.Issues.AddLabelsToIssue(ctx, owner, repo, ref.Number, add); err != nil {
			return a.refused(ctx, req, "labelling "+refString(ref), err)
		}
	}
	for _, l := range remove {
		if _, err := client.Issues.RemoveLabelForIssue(ctx, owner, repo, ref.Number, l); err != nil {
			return a.refused(ctx, req, "taking the label "+l+" off "+refString(ref), err)
		}
	}
	return new(bot.Msg).Textf("🏷 %s labelled ", login).Link(refString(ref), itemURL(ref)).Textf(": %s.", labelWords(add, remove)).Reply(), nil
}

// SetState is !gh close [REF] [completed|not_planned] and !gh reopen [REF].
func (a *Acting) SetState(ctx context.Context, req bot.Request) (bot.Reply, error) {
	closing := req.Args[0] == "close"
	usage := "reopen [REF]"
	if closing {
		usage = "close [REF] [completed|not_planned]"
	}
	client, login, ref, rest, stop, err := a.prepare(ctx, req, usage)
	if stop != nil || err != nil {
		return deref(stop), err
	}
	owner, repo, _ := strings.Cut(ref.Repo, "/")
	edit := &gh.IssueRequest{State: gh.String("open")}
	if closing {
		edit.State = gh.String("closed")
		if reason := strings.ReplaceAll(strings.TrimSpace(rest), " ", "_"); reason != "" {
			if reason != "completed" && reason != "not_planned" {
				return bot.TextReply("usage: %sgh %s", req.Prefix, usage), nil
			}
			edit.StateReason = gh.String(reason)
		}
	}
	is, _, err := client.Issues.Edit(ctx, owner, repo, ref.Number, edit)
	if err != nil {
		return a.refused(ctx, req, map[bool]string{true: "closing ", false: "reopening "}[closing]+refString(ref), err)
	}
	verb := map[bool]string{true: "closed", false: "reopened"}[closing]
	return new(bot.Msg).Textf("%s %s ", login, verb).Link(refString(ref), is.GetHTMLURL()).Text(".").Reply(), nil
}

// Assign is !gh assign [REF] @login….
func (a *Acting) Assign(ctx context.Context, req bot.Request) (bot.Reply, error) {
	client, login, ref, rest, stop, err := a.prepare(ctx, req, "assign [REF] @LOGIN…")
	if stop != nil || err != nil {
		return deref(stop), err
	}
	var who []string
	for _, w := range strings.Fields(rest) {
		who = append(who, strings.TrimPrefix(w, "@"))
	}
	if len(who) == 0 {
		return bot.TextReply("usage: %sgh assign [REF] @LOGIN…", req.Prefix), nil
	}
	owner, repo, _ := strings.Cut(ref.Repo, "/")
	is, _, err := client.Issues.AddAssignees(ctx, owner, repo, ref.Number, who)
	if err != nil {
		return a.refused(ctx, req, "assigning "+refString(ref), err)
	}
	return new(bot.Msg).Textf("%s assigned %s to ", login, strings.Join(who, ", ")).Link(refString(ref), is.GetHTMLURL()).Text(".").Reply(), nil
}

// Issue is !gh issue OWNER/REPO TITLE, the body on the following lines.
func (a *Acting) Issue(ctx context.Context, req bot.Request) (bot.Reply, error) {
	client, login, ok, err := a.People.As(ctx, req.Sender)
	if err != nil || !ok {
		return bot.TextReply("You are not logged in to GitHub here; %sgh login, in a direct chat with me, lets me act as you.", req.Prefix), err
	}
	text := afterWords(req.Body, 2)
	first, body, _ := strings.Cut(text, "\n")
	repoName, title, _ := strings.Cut(strings.TrimSpace(first), " ")
	if !strings.Contains(repoName, "/") || strings.TrimSpace(title) == "" {
		return bot.TextReply("usage: %sgh issue OWNER/REPO TITLE, and the issue's text on the following lines", req.Prefix), nil
	}
	if !a.Scope.Allows(repoName) {
		return bot.TextReply("Not done: %s is not among the repositories this bot may act on (the operator's github.allowed_repos).", repoName), nil
	}
	owner, repo, _ := strings.Cut(repoName, "/")
	is, _, err := client.Issues.Create(ctx, owner, repo, &gh.IssueRequest{Title: gh.String(strings.TrimSpace(title)), Body: gh.String(strings.TrimSpace(body))})
	if err != nil {
		return a.refused(ctx, req, "opening an issue in "+repoName, err)
	}
	return new(bot.Msg).Textf("%s opened ", login).Link(fmt.Sprintf("%s#%d", repoName, is.GetNumber()), is.GetHTMLURL()).Textf(" “%s”.", is.GetTitle()).Reply(), nil
}

func deref(r *bot.Reply) bot.Reply {
	if r == nil {
		return bot.Reply{}
	}
	return *r
}

func refString(r Ref) string { return fmt.Sprintf("%s#%d", r.Repo, r.Number) }

func itemURL(r Ref) string { return fmt.Sprintf("https://github.com/%s/issues/%d", r.Repo, r.Number) }

var labelWord = regexp.MustCompile(`([+-])(?:"([^"]+)"|(\S+))`)

// labelChanges reads +name and -name (a quoted name may have spaces).
func labelChanges(s string) (add, remove []string) {
	for _, m := range labelWord.FindAllStringSubmatch(s, -1) {
		name := m[2] + m[3]
		if m[1] == "+" {
			add = append(add, name)
		} else {
			remove = append(remove, name)
		}
	}
	return add, remove
}

func labelWords(add, remove []string) string {
	var parts []string
	for _, l := range add {
		parts = append(parts, "+"+l)
	}
	for _, l := range remove {
		parts = append(parts, "−"+l)
	}
	return strings.Join(parts, " ")
}
