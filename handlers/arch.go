package handlers

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/handlers/say"
	"github.com/osbuild/ibbot/internal/catalog"
	"github.com/osbuild/ibbot/internal/diagram"
	"github.com/osbuild/ibbot/internal/diagram/draw"
	"github.com/osbuild/ibbot/internal/prodhash"
)

// DiagramSource returns the architecture diagram and a version number
// that changes whenever the file does.
type DiagramSource interface {
	Diagram(ctx context.Context) (*diagram.Diagram, int, error)
}

// Arch explains the hosted service: components, where they run, the flow,
// the databases and what runs in production; with the diagram as an image.
func Arch(cat *catalog.Catalog, deps Deployments, cmp Comparisons, src DiagramSource) bot.Command {
	a := &archCmd{cat: cat, deps: deps, cmp: cmp, src: src}
	return bot.Command{
		Name: "arch", Aliases: []string{"architecture", "components"}, Args: "[COMPONENT]", MaxArgs: 1,
		Summary: "the hosted service at a glance, with the architecture diagram",
		Help:    "With a name, that component's details: where it runs, what it does, what it talks to, its code and docs.",
		Example: "arch composer",
		Run:     a.run,
	}
}

type archCmd struct {
	cat  *catalog.Catalog
	deps Deployments
	cmp  Comparisons // nil: boxes are not annotated
	src  DiagramSource

	annotator draw.Annotator
	mu        sync.Mutex
	rendered  *bot.Image
	content   [32]byte // hash of the annotated diagram rendered
}

func (a *archCmd) run(ctx context.Context, req bot.Request) (bot.Reply, error) {
	if len(req.Args) == 1 {
		comp, ok := a.cat.Find(req.Args[0])
		if !ok {
			return say.UnknownComponent(a.cat, req, req.Args[0]), nil
		}
		return a.one(ctx, comp, req.Prefix), nil
	}
	m := new(bot.Msg).Bold(a.cat.Project+" hosted service").Text(" (").Link("architecture page", a.cat.DiagramPage).Text(")").Line()
	m.Text("Flow: " + a.cat.Flow).Line()
	for i := range a.cat.Components {
		c := &a.cat.Components[i]
		m.Text("• ").Bold(c.Name).Textf(" on %s", c.RunsOn)
		if c.HasCode() {
			m.Text(", ")
			a.hash(ctx, m, c)
		}
		m.Textf(": %s", c.What).Line()
	}
	m.Text("Details: ").Code(req.Prefix + "arch NAME").Text("; production commits: ").Code(req.Prefix + "hash").Text(".")
	reply := m.Reply()
	reply.Image = a.image(ctx)
	return reply, nil
}

func (a *archCmd) one(ctx context.Context, c *catalog.Component, prefix string) bot.Reply {
	m := new(bot.Msg).Bold(c.Name).Textf(" (%s)", c.Kind).Line()
	m.Text("Runs on: " + c.RunsOn).Line()
	m.Text("What it does: " + c.What).Line()
	if len(c.TalksTo) > 0 {
		var names []string
		for _, id := range c.TalksTo {
			if other, ok := a.cat.Find(id); ok {
				names = append(names, other.Name)
			}
		}
		m.Text("Talks to: " + strings.Join(names, ", ")).Line()
	}
	if c.HasCode() {
		m.Text("Code: ").Link(c.Repo, "https://github.com/"+c.Repo).Text("; in production: ")
		a.hash(ctx, m, c)
		m.Text(" (").Code(prefix + "hash " + c.ID).Text(" for more)").Line()
	}
	if c.Docs != "" {
		m.Text("Docs: ").Link(c.Docs, c.Docs).Line()
	}
	return m.Reply()
}

// hash appends the component's production commit, or why it is unknown.
func (a *archCmd) hash(ctx context.Context, m *bot.Msg, c *catalog.Component) {
	dep, err := a.deps.Get(ctx, c)
	switch {
	case errors.Is(err, prodhash.ErrNoHash):
		m.Text("commit not published")
	case err != nil:
		m.Text("commit unknown right now")
	default:
		m.Link(say.Short(dep.SHA), "https://github.com/"+c.Repo+"/commit/"+dep.SHA)
		if dep.Stale {
			m.Text(" (stale)")
		}
	}
}

// image renders the diagram, each component's box annotated with what
// it runs in production (short sha, commits behind main), once per
// distinct content (the bot uploads each distinct image once). Failures
// only cost the picture, never the answer.
func (a *archCmd) image(ctx context.Context) *bot.Image {
	if a.src == nil {
		return nil
	}
	d, _, err := a.src.Diagram(ctx)
	if err != nil {
		return nil
	}
	marks := a.marks(ctx)
	if len(marks) > 0 {
		if annotated, _, err := a.annotator.Annotate(d, marks); err == nil {
			d = annotated
		}
	}
	sum := sha256.Sum256(d.Bytes())
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rendered != nil && a.content == sum {
		return a.rendered
	}
	png, err := draw.Render(d, 2)
	if err != nil {
		return nil
	}
	a.rendered = &bot.Image{Data: png.Data, Name: "architecture.png", MIME: "image/png", Width: png.Width, Height: png.Height,
		Description: a.describe(marks)}
	a.content = sum
	return a.rendered
}

// describe says in words what the picture shows, for the image's body
// (its caption, and what a screen reader reads).
func (a *archCmd) describe(marks map[string]draw.Mark) string {
	text := fmt.Sprintf("Architecture diagram of the %s hosted service: %s.", a.cat.Project, a.cat.Flow)
	var parts []string
	for _, comp := range a.cat.Services() {
		if m, ok := marks[comp.DiagramAnchor]; ok && comp.DiagramAnchor != "" {
			parts = append(parts, comp.Name+" "+strings.Replace(m.Label, " · ", ", ", 1)+" main")
		}
	}
	if len(parts) > 0 {
		text += " In production: " + strings.Join(parts, "; ") + "."
	}
	return text
}

// marks are the boxes' annotations, by diagram anchor.
func (a *archCmd) marks(ctx context.Context) map[string]draw.Mark {
	marks := map[string]draw.Mark{}
	for _, comp := range a.cat.Services() {
		if comp.DiagramAnchor == "" || a.deps == nil {
			continue
		}
		dep, err := a.deps.Get(ctx, comp)
		if err != nil || dep.SHA == "" {
			continue
		}
		label := say.Short(dep.SHA)
		if a.cmp != nil {
			if cmp, err := a.cmp.Compare(ctx, comp.Repo, dep.SHA, comp.Branch); err == nil {
				label += fmt.Sprintf(" · %d behind", cmp.Behind)
			}
		}
		marks[comp.DiagramAnchor] = draw.Mark{Label: label, Href: "https://github.com/" + comp.Repo + "/commit/" + dep.SHA, Title: comp.Name}
	}
	return marks
}
