// Package catalog describes the project ibbot serves: its components, where
// each runs, what it does and where its code lives. The default is Image
// Builder's, embedded; a config file can override or extend it, so another
// project can run ibbot with its own.
package catalog

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/osbuild/ibbot/internal/suggest"
)

//go:embed image-builder.yaml
var defaultYAML []byte

// Component is one part of the service.
type Component struct {
	ID            string   `yaml:"id"`
	Name          string   `yaml:"name"`
	Aliases       []string `yaml:"aliases"`
	Kind          string   `yaml:"kind"` // "service" (default) or "database"
	Repo          string   `yaml:"repo"` // owner/name; empty for databases
	Branch        string   `yaml:"branch"`
	DiagramAnchor string   `yaml:"diagram_anchor"`
	RunsOn        string   `yaml:"runs_on"`
	What          string   `yaml:"what"`
	TalksTo       []string `yaml:"talks_to"`
	Docs          string   `yaml:"docs"`
}

// HasCode reports whether the component is built from a repository, so has
// a production commit.
func (c *Component) HasCode() bool { return c.Repo != "" }

// Catalog is the project description.
type Catalog struct {
	Project     string            `yaml:"project"`
	Flow        string            `yaml:"flow"`
	DiagramPage string            `yaml:"diagram_page"`
	Components  []Component       `yaml:"components"`
	RepoRenames map[string]string `yaml:"repo_renames"`
	Contribute  Contribute        `yaml:"contribute"`
	Contact     []Contact         `yaml:"contact"`
}

// Contribute is the onboarding !contribute gives.
type Contribute struct {
	Guide string   `yaml:"guide"`
	Steps []string `yaml:"steps"`
	Areas []Area   `yaml:"areas"`
}

// Area is one part of the project a newcomer can start in.
type Area struct {
	ID      string   `yaml:"id"`
	Aliases []string `yaml:"aliases"`
	Repo    string   `yaml:"repo"`
	Steps   []string `yaml:"steps"`
}

// Contact is one way to reach the team.
type Contact struct {
	Name string `yaml:"name"`
	Text string `yaml:"text"`
	URL  string `yaml:"url"`
}

// FindArea returns the contribution area called name (id or alias).
func (c *Catalog) FindArea(name string) (*Area, bool) {
	name = strings.ToLower(name)
	for i := range c.Contribute.Areas {
		a := &c.Contribute.Areas[i]
		if a.ID == name || slices.Contains(a.Aliases, name) {
			return a, true
		}
	}
	return nil, false
}

// Default returns the embedded Image Builder catalogue.
func Default() *Catalog {
	c, err := parse(defaultYAML)
	if err != nil {
		panic("embedded catalogue is invalid: " + err.Error()) // caught by its test
	}
	return c
}

// Load returns the default catalogue with the file at path laid over it:
// components with a known id replace the default ones, new ids are added;
// with replace, the file stands alone.
func Load(path string, replace bool) (*Catalog, error) {
	base := Default()
	if path == "" {
		return base, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	over, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if replace {
		return over, nil
	}
	base.merge(over)
	return base, base.validate()
}

func parse(data []byte) (*Catalog, error) {
	var c Catalog
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, err
	}
	for i := range c.Components {
		if c.Components[i].Kind == "" {
			c.Components[i].Kind = "service"
		}
		if c.Components[i].Branch == "" && c.Components[i].Repo != "" {
			c.Components[i].Branch = "main"
		}
	}
	return &c, c.validate()
}

func (c *Catalog) merge(over *Catalog) {
	if over.Project != "" {
		c.Project = over.Project
	}
	if over.Flow != "" {
		c.Flow = over.Flow
	}
	if over.DiagramPage != "" {
		c.DiagramPage = over.DiagramPage
	}
	for _, oc := range over.Components {
		if i := slices.IndexFunc(c.Components, func(x Component) bool { return x.ID == oc.ID }); i >= 0 {
			c.Components[i] = oc
		} else {
			c.Components = append(c.Components, oc)
		}
	}
	if len(over.Contribute.Steps) > 0 || len(over.Contribute.Areas) > 0 {
		c.Contribute = over.Contribute
	}
	if len(over.Contact) > 0 {
		c.Contact = over.Contact
	}
	for k, v := range over.RepoRenames {
		if c.RepoRenames == nil {
			c.RepoRenames = map[string]string{}
		}
		c.RepoRenames[k] = v
	}
}

func (c *Catalog) validate() error {
	var errs []error
	seen := map[string]string{}
	for _, comp := range c.Components {
		if comp.ID == "" || comp.Name == "" {
			errs = append(errs, fmt.Errorf("component %q needs an id and a name", comp.ID))
		}
		for _, n := range comp.names() {
			if other, dup := seen[n]; dup && other != comp.ID {
				errs = append(errs, fmt.Errorf("name %q is used by both %s and %s", n, other, comp.ID))
			}
			seen[n] = comp.ID
		}
		if comp.Repo != "" && strings.Count(comp.Repo, "/") != 1 {
			errs = append(errs, fmt.Errorf("component %s: repo %q is not owner/name", comp.ID, comp.Repo))
		}
	}
	return errors.Join(errs...)
}

func (c *Component) names() []string {
	out := []string{strings.ToLower(c.ID), strings.ToLower(c.Name)}
	for _, a := range c.Aliases {
		out = append(out, strings.ToLower(a))
	}
	return slices.Compact(out)
}

// Find returns the component called name (id, name or alias, any case).
func (c *Catalog) Find(name string) (*Component, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	for i := range c.Components {
		if slices.Contains(c.Components[i].names(), name) {
			return &c.Components[i], true
		}
	}
	return nil, false
}

// Suggest returns the known component name closest to a mistyped one.
func (c *Catalog) Suggest(name string) string {
	var all []string
	for i := range c.Components {
		all = append(all, c.Components[i].names()...)
	}
	return suggest.Closest(strings.ToLower(name), all)
}

// Services returns the components built from code, in catalogue order.
func (c *Catalog) Services() []*Component {
	var out []*Component
	for i := range c.Components {
		if c.Components[i].HasCode() {
			out = append(out, &c.Components[i])
		}
	}
	return out
}

// CanonicalRepo maps a linked repository to where it lives now.
func (c *Catalog) CanonicalRepo(repo string) string {
	for from, to := range c.RepoRenames {
		if strings.EqualFold(from, repo) {
			return to
		}
	}
	return repo
}
