package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/ghclient"
	"github.com/osbuild/ibbot/internal/prodhash"
)

// Deployments tells which commit of a component runs in production.
type Deployments interface {
	Get(ctx context.Context, comp *catalog.Component) (prodhash.Deployment, error)
}

// Comparisons tells how far a commit is behind a branch.
type Comparisons interface {
	Compare(ctx context.Context, repo, base, head string) (*prodhash.Comparison, error)
}

// Hash answers "which commit runs in production, and how far behind is it".
func Hash(cat *catalog.Catalog, deps Deployments, cmp Comparisons, now func() time.Time, pageURL string) bot.Command {
	h := &hashCmd{cat: cat, deps: deps, cmp: cmp, now: now, pageURL: pageURL}
	return bot.Command{
		Name: "hash", Aliases: []string{"prod"}, Args: "[COMPONENT]", MaxArgs: 1,
		Summary: "which commit of each service component runs in production, and how far behind main it is",
		Help:    "Without a name: a table of all components. Names: " + strings.Join(say.ServiceNames(cat), ", ") + ".",
		Example: "hash composer",
		Run:     h.run,
	}
}

type hashCmd struct {
	cat     *catalog.Catalog
	deps    Deployments
	cmp     Comparisons
	now     func() time.Time
	pageURL string // the status page; "": none
}

func (h *hashCmd) run(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) == 0 {
		return h.table(ctx), nil
	}
	comp, ok := h.cat.Find(req.Args[0])
	if !ok {
		return say.UnknownComponent(h.cat, req, req.Args[0]), nil
	}
	return h.one(ctx, comp)
}

// status is one component's production state, gathered for rendering.
type status struct {
	comp *catalog.Component
	dep  prodhash.Deployment
	err  error // from the source
	cmp  *prodhash.Comparison
	cerr error // from GitHub
}

func (h *hashCmd) gather(ctx context.Context, comp *catalog.Component) status {
	s := status{comp: comp}
	s.dep, s.err = h.deps.Get(ctx, comp)
	if s.err == nil {
		s.cmp, s.cerr = h.cmp.Compare(ctx, comp.Repo, s.dep.SHA, comp.Branch)
	}
	return s
}

func (h *hashCmd) one(ctx context.Context, comp *catalog.Component) (bot.Reply, error) {
	if !comp.HasCode() {
		return new(bot.Msg).Bold(comp.Name).Textf(" is a %s (%s); it has no code of its own, so no commit runs.", comp.Kind, comp.RunsOn).Reply(), nil
	}
	s := h.gather(ctx, comp)
	now := h.now()
	m := new(bot.Msg)
	switch {
	case errors.Is(s.err, prodhash.ErrNoHash):
		m.Bold(comp.Name).Textf(": the %s links ", s.dep.Source).Link(s.dep.Link, s.dep.Link).
			Text(" without naming a commit, so I cannot tell which one runs in production.")
		return m.Reply(), nil
	case s.err != nil:
		return bot.Reply{}, bot.Errorf(s.err, "I could not find out what %s runs: %s", comp.Name, firstLine(s.err))
	}
	commitURL := "https://github.com/" + comp.Repo + "/commit/" + s.dep.SHA
	m.Bold(comp.Name).Text(" runs ").Link(say.Short(s.dep.SHA), commitURL).Text(" in production")
	if s.cmp != nil {
		b := s.cmp.Base
		m.Text(": ").Text(say.Quote(b.Title)).Textf(" by %s, %s (%s)", b.Author, say.Day(b.Date), say.Ago(now, b.Date))
	}
	m.Line()
	switch {
	case s.cerr != nil:
		m.Textf("How far behind %s it is: unknown (%s).", comp.Branch, ghclient.Explain(s.cerr)).Line()
	case s.cmp.Behind == 0:
		m.Textf("It is the tip of %s: nothing is waiting to be deployed.", comp.Branch).Line()
	default:
		m.Bold(say.Plural(s.cmp.Behind, "commit")).Textf(" behind %s", comp.Branch)
		if len(s.cmp.Pending) > 0 {
			oldest := s.cmp.Pending[0]
			m.Text("; oldest not deployed: ").Link(say.Short(oldest.SHA), oldest.URL).Textf(" %s (%s)", say.Quote(oldest.Title), say.Day(oldest.Date))
		}
		m.Text(". ").Link("Compare", s.cmp.URL).Line()
	}
	m.Text("Full sha ").Code(s.dep.SHA).Line()
	h.freshness(m, s.dep, now)
	h.pageLink(m)
	return m.Reply(), nil
}

// freshness says where the answer comes from and how old it is.
func (h *hashCmd) freshness(m *bot.Msg, dep prodhash.Deployment, now time.Time) {
	m.Textf("Source: %s", dep.Source)
	if !dep.AsOf.IsZero() {
		m.Textf(", as of %s (%s)", say.Day(dep.AsOf), say.Ago(now, dep.AsOf))
	}
	m.Text(".")
	if dep.Stale {
		m.Line().Bold("Stale:").Textf(" the source failed (%s); this is what it said at %s UTC.", firstLine(errors.New(dep.StaleReason)), dep.CheckedAt.UTC().Format("2006-01-02 15:04"))
	}
}

func (h *hashCmd) table(ctx context.Context) bot.Reply {
	services := h.cat.Services()
	all := make([]status, len(services))
	var wg sync.WaitGroup
	for i, comp := range services {
		wg.Add(1)
		go func() { defer wg.Done(); all[i] = h.gather(ctx, comp) }()
	}
	wg.Wait()
	now := h.now()
	var rows [][]bot.Cell
	var stale []string
	for _, s := range all {
		rows = append(rows, h.row(s, now))
		if s.dep.Stale {
			stale = append(stale, s.comp.Name)
		}
	}
	m := new(bot.Msg).Bold("In production").Line().
		Table([]string{"component", "commit", "committed", "behind", "data as of"}, rows)
	if len(stale) > 0 {
		m.Line().Bold("Stale:").Textf(" the source failed for %s; showing the last good values.", strings.Join(stale, ", "))
	}
	h.pageLink(m)
	return m.Reply()
}

// pageLink points at the live status page, when there is one.
func (h *hashCmd) pageLink(m *bot.Msg) {
	if h.pageURL != "" {
		m.Line().Text("On the live architecture page: ").Link(h.pageURL, h.pageURL)
	}
}

func (h *hashCmd) row(s status, now time.Time) []bot.Cell {
	name := bot.Cell{Text: s.comp.Name}
	switch {
	case errors.Is(s.err, prodhash.ErrNoHash):
		return []bot.Cell{name, {Text: "no hash in source"}, {}, {}, {Text: say.Ago(now, s.dep.AsOf)}}
	case s.err != nil:
		return []bot.Cell{name, {Text: "unavailable"}, {}, {}, {}}
	}
	commit := bot.Cell{Text: say.Short(s.dep.SHA), Code: true, URL: "https://github.com/" + s.comp.Repo + "/commit/" + s.dep.SHA}
	committed, behind := bot.Cell{Text: "?"}, bot.Cell{Text: "?"}
	if s.cerr == nil {
		committed = bot.Cell{Text: say.Ago(now, s.cmp.Base.Date)}
		behind = bot.Cell{Text: fmt.Sprintf("%d", s.cmp.Behind), URL: s.cmp.URL}
	}
	asOf := say.Ago(now, s.dep.AsOf)
	if s.dep.Stale {
		asOf += " (stale)"
	}
	return []bot.Cell{name, commit, committed, behind, {Text: asOf}}
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}
