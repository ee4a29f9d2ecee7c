package deploys

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
	"maunium.net/go/mautrix/id"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/config"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/prodhash"
	"github.com/osbuild/ibbot/internal/store"
)

// History is what !deploys reads: the deploys the deploy checks saw.
type History interface {
	Deploys(ctx context.Context, component string, since time.Time, limit int) ([]store.DeployRow, error)
}

// deployWindow is the span of the DORA measures !deploys reports.
const deployWindow = 30 * 24 * time.Hour

// maxDeploysListed bounds the deploys !deploys lists one by one.
const maxDeploysListed = 8

// RoomToggle turns something on or off for a room, said by whom.
type RoomToggle func(ctx context.Context, room id.RoomID, on bool, by id.UserID) error

// Command is !deploys [COMPONENT]: the latest deploys with their lead
// times (from the oldest newly deployed commit to the deploy being seen),
// and per component two of the DORA measures over 30 days: how often it
// is deployed, and the median lead time.
func Command(cat *catalog.Catalog, h History, now func() time.Time, toggle RoomToggle) bot.Command {
	return bot.Command{
		Name: "deploys", Aliases: []string{"history"}, Args: "[COMPONENT | on | off]", MaxArgs: 1,
		Summary: "recent deploys with their lead times, and deploy frequency per component; room admins turn announcements on or off here",
		Help:    "`deploys on` announces deploys in this room from now on, `deploys off` stops them (room admins).",
		Example: "deploys composer",
		AdminIf: func(args []string) bool { return len(args) == 1 && (args[0] == "on" || args[0] == "off") },
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			if len(req.Args) == 1 && (req.Args[0] == "on" || req.Args[0] == "off") && toggle != nil {
				if err := toggle(ctx, req.RoomID, req.Args[0] == "on", req.Sender); err != nil {
					return bot.Reply{}, fmt.Errorf("storing the setting: %w", err)
				}
				if req.Args[0] == "on" {
					return bot.TextReply("%s turned deploy announcements on in this room.", req.Sender), nil
				}
				return bot.TextReply("%s turned deploy announcements off in this room.", req.Sender), nil
			}
			id, name := "", ""
			if len(req.Args) == 1 {
				comp, ok := cat.Find(req.Args[0])
				if !ok {
					return say.UnknownComponent(cat, req, req.Args[0]), nil
				}
				id, name = comp.ID, comp.Name
			}
			t := now()
			rows, err := h.Deploys(ctx, id, t.Add(-deployWindow), 500)
			if err != nil {
				return bot.Reply{}, fmt.Errorf("reading the deploy history: %w", err)
			}
			return RenderLog(cat, name, rows, t), nil
		},
	}
}

// PullRequests reads a pull request (go-github's PullRequestsService).
type PullRequests interface {
	Get(ctx context.Context, owner, repo string, number int) (*gh.PullRequest, *gh.Response, error)
}

// Live answers "is my change in production?": !deployed OWNER/REPO#N, a
// pull request's URL, or a commit sha.
type Live struct {
	Catalog *catalog.Catalog
	Deploys Deployments
	Compare Comparisons
	Pulls   PullRequests
	History History // nil: the deploy that brought it is not named
	Now     func() time.Time
}

var (
	pullURL  = regexp.MustCompile(`^https://github\.com/([^/]+/[^/]+)/pull/(\d+)`)
	pullRef  = regexp.MustCompile(`^([^/#\s]+/[^/#\s]+)#(\d+)$`)
	shaInput = regexp.MustCompile(`^[0-9a-fA-F]{7,40}$`)
)

// Command is !deployed.
func (l *Live) Command() bot.Command {
	return bot.Command{
		Name: "deployed", Aliases: []string{"live"}, Args: "OWNER/REPO#N | PR-URL | SHA", MinArgs: 1, MaxArgs: 1,
		Summary: "is a merged pull request (or a commit) in production yet, and since when",
		Example: "deployed osbuild/osbuild-composer#4512",
		Run: func(ctx context.Context, req bot.Request) (bot.Reply, error) {
			arg := strings.TrimSuffix(strings.Trim(req.Args[0], "<>"), "/")
			if m := pullURL.FindStringSubmatch(arg); m != nil {
				arg = m[1] + "#" + m[2]
			}
			if m := pullRef.FindStringSubmatch(arg); m != nil {
				n, _ := strconv.Atoi(m[2])
				return l.pull(ctx, m[1], n)
			}
			if shaInput.MatchString(arg) {
				return l.commit(ctx, strings.ToLower(arg))
			}
			return bot.TextReply("usage: %sdeployed OWNER/REPO#N, a pull request's URL, or a commit sha", req.Prefix), nil
		},
	}
}

// componentOf is the service built from repo, if any.
func (l *Live) componentOf(repo string) *catalog.Component {
	for _, c := range l.Catalog.Services() {
		if strings.EqualFold(l.Catalog.CanonicalRepo(repo), c.Repo) {
			return c
		}
	}
	return nil
}

func (l *Live) pull(ctx context.Context, repo string, n int) (bot.Reply, error) {
	if !config.ValidRepo(repo, false) {
		return bot.TextReply("%q is not a repository name.", repo), nil
	}
	comp := l.componentOf(repo)
	if comp == nil {
		return bot.TextReply("No component of the hosted service is built from %s, so none of its changes runs in production (%s).",
			repo, strings.Join(serviceRepos(l.Catalog), ", ")), nil
	}
	owner, name, _ := strings.Cut(repo, "/")
	pr, _, err := l.Pulls.Get(ctx, owner, name, n)
	if ghclient.IsNotFound(err) {
		return bot.TextReply("%s has no pull request #%d.", repo, n), nil
	}
	if err != nil {
		return bot.Reply{}, bot.Errorf(err, "I could not read %s#%d: %s", repo, n, ghclient.Explain(err))
	}
	ref := fmt.Sprintf("%s#%d", repo, n)
	switch {
	case pr.GetState() == "open":
		return bot.TextReply("%s “%s” is still open: not merged, so not in production.", ref, pr.GetTitle()), nil
	case !pr.GetMerged() || pr.GetMergeCommitSHA() == "":
		return bot.TextReply("%s “%s” was closed without being merged: it will not reach production.", ref, pr.GetTitle()), nil
	}
	what := fmt.Sprintf("%s “%s”", ref, pr.GetTitle())
	return l.answer(ctx, comp, what, pr.GetMergeCommitSHA(), pr.GetMergedAt().Time)
}

func (l *Live) commit(ctx context.Context, sha string) (bot.Reply, error) {
	for _, comp := range l.Catalog.Services() {
		if comp.Repo == "" {
			continue
		}
		dep, err := l.Deploys.Get(ctx, comp)
		if err != nil {
			continue
		}
		cmp, err := l.Compare.Compare(ctx, comp.Repo, sha, dep.SHA)
		if err != nil {
			continue // not a commit of this repository
		}
		return l.verdict(ctx, comp, "commit "+say.Short(sha), sha, time.Time{}, dep, cmp), nil
	}
	return bot.TextReply("No repository a component is built from has a commit %s.", sha), nil
}

// answer compares the merge commit with what runs in production.
func (l *Live) answer(ctx context.Context, comp *catalog.Component, what, sha string, merged time.Time) (bot.Reply, error) {
	dep, err := l.Deploys.Get(ctx, comp)
	if err != nil {
		return bot.Reply{}, bot.Errorf(err, "I could not tell which commit of %s runs in production: %v", comp.Name, err)
	}
	cmp, err := l.Compare.Compare(ctx, comp.Repo, sha, dep.SHA)
	if err != nil {
		return bot.Reply{}, bot.Errorf(err, "I could not compare with production: %s", ghclient.Explain(err))
	}
	return l.verdict(ctx, comp, what, sha, merged, dep, cmp), nil
}

// verdict: production contains the commit when it lacks none of its
// history (the comparison from the commit to production is identical or
// ahead).
func (l *Live) verdict(ctx context.Context, comp *catalog.Component, what, sha string, merged time.Time, dep prodhash.Deployment, cmp *prodhash.Comparison) bot.Reply {
	m := new(bot.Msg)
	prod := func() { m.Link(say.Short(dep.SHA), "https://github.com/"+comp.Repo+"/commit/"+dep.SHA) }
	if cmp.Removed > 0 {
		m.Textf("✗ %s is not in production yet: %s runs ", what, comp.Name)
		prod()
		m.Textf(", which lacks %s of it.", say.Plural(cmp.Removed, "commit"))
		if !merged.IsZero() {
			m.Textf(" Merged %s.", say.Ago(l.Now(), merged))
		}
		return m.Reply()
	}
	m.Textf("✓ %s is in production on %s (it runs ", what, comp.Name)
	prod()
	m.Text(").")
	if d, ok := l.firstDeployWith(ctx, comp, sha, merged); ok {
		m.Textf(" Deployed %s UTC", d.SeenAt.UTC().Format("2006-01-02 15:04"))
		if d.To != dep.SHA { // a later deploy runs now: say which one brought it
			m.Text(" with ")
			m.Link(say.Short(d.To), "https://github.com/"+comp.Repo+"/commit/"+d.To)
		}
		if !merged.IsZero() {
			m.Textf(", %s after the merge.", say.Uptime(d.SeenAt.Sub(merged)))
		} else {
			m.Text(".")
		}
	} else if !merged.IsZero() {
		m.Textf(" Merged %s; it went live before ibbot saw a deploy of it.", say.Ago(l.Now(), merged))
	}
	return m.Reply()
}

// firstDeployWith finds the oldest recorded deploy (after the merge)
// whose commit contains sha.
func (l *Live) firstDeployWith(ctx context.Context, comp *catalog.Component, sha string, merged time.Time) (store.DeployRow, bool) {
	if l.History == nil {
		return store.DeployRow{}, false
	}
	since := merged
	if since.IsZero() {
		since = l.Now().Add(-365 * 24 * time.Hour)
	}
	rows, err := l.History.Deploys(ctx, comp.ID, since, 50)
	if err != nil {
		return store.DeployRow{}, false
	}
	for i := len(rows) - 1; i >= 0; i-- { // oldest first
		if rows[i].Rollback {
			continue
		}
		if cmp, err := l.Compare.Compare(ctx, comp.Repo, sha, rows[i].To); err == nil && cmp.Removed == 0 {
			return rows[i], true
		}
	}
	return store.DeployRow{}, false
}

func serviceRepos(cat *catalog.Catalog) []string {
	var out []string
	for _, c := range cat.Services() {
		if c.Repo != "" {
			out = append(out, c.Repo)
		}
	}
	return out
}
