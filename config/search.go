package config

// The search: section: the documentation the room's memory holds, besides
// the list's mail and the followed repositories' issues.

import (
	"fmt"
	"path"
	"strings"
	"time"
)

// Search configures !docs and !search.
type Search struct {
	Docs    []DocsSource  `yaml:"docs"`
	Refresh time.Duration `yaml:"refresh"` // how often the documentation is read again
}

// DocsSource is a documentation folder in Docusaurus's layout: in a GitHub
// repository (read through the API with conditional requests) or a local
// folder.
type DocsSource struct {
	Repo string `yaml:"repo"` // owner/name
	Ref  string `yaml:"ref"`  // branch or tag; "": the default branch
	Path string `yaml:"path"` // the folder in the repository
	Dir  string `yaml:"dir"`  // instead of repo: a local folder
	URL  string `yaml:"url"`  // where the site publishes the folder: https://osbuild.org/docs/
}

// Folder is the documentation folder in the repository.
func (d DocsSource) Folder() string {
	if p := strings.Trim(d.Path, "/"); p != "" {
		return p
	}
	return "docs"
}

// Name says which documentation it is, in logs and in the store.
func (d DocsSource) Name() string {
	if d.Dir != "" {
		return "dir:" + path.Clean(d.Dir)
	}
	return d.Repo + "/" + d.Folder()
}

func (c *Config) checkSearch(ch *checker) {
	s := &c.Search
	if len(s.Docs) > 0 {
		ch.durations("search.refresh", s.Refresh, time.Minute, 7*24*time.Hour, "")
	}
	seen := map[string]bool{}
	for i, d := range s.Docs {
		key := fmt.Sprintf("search.docs[%d]", i)
		if !isHTTPURL(d.URL) {
			ch.bad(key+".url", "%q is not an http(s) URL: where the site publishes these pages, like https://osbuild.org/docs/", d.URL)
		}
		switch {
		case (d.Repo == "") == (d.Dir == ""):
			ch.bad(key, "give either repo (a GitHub repository) or dir (a local folder)")
			continue
		case d.Repo != "" && !ValidRepo(d.Repo, false):
			ch.bad(key+".repo", "%q is not owner/name", d.Repo)
		case d.Dir != "" && (d.Ref != "" || d.Path != ""):
			ch.bad(key, "ref and path are for repo; dir is the docs folder itself")
		}
		if seen[d.Name()] {
			ch.bad(key, "%s is listed twice", d.Name())
		}
		seen[d.Name()] = true
	}
}
