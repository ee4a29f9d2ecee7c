package demo

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// World is the demo's GitHub: made-up repositories shaped like Image
// Builder's, each a history of squash-merged pull requests with their
// authors and dates, issues for newcomers, and the people behind them.
// Every answer is computed from it (a comparison of any two commits, a
// pull request by number, the issues a search finds), so whatever a
// person asks in the demo, the answers agree with each other. None of it
// is real: names are invented, and titles say nothing of the projects'
// state.
type World struct {
	mu    sync.Mutex
	repos map[string]*repo // by full name, lower case
	now   time.Time
}

// A person is an invented contributor.
type person struct{ login, name string }

var people = []person{
	{"dana-kowalska", "Dana Kowalska"}, {"luis-ortega", "Luis Ortega"}, {"mei-tanaka", "Mei Tanaka"},
	{"ondrej-novak", "Ondrej Novak"}, {"priya-raman", "Priya Raman"}, {"jonas-berg", "Jonas Berg"},
	{"ana-silva", "Ana Silva"}, {"dependabot[bot]", "dependabot[bot]"},
}

func nameOf(login string) string {
	for _, p := range people {
		if p.login == login {
			return p.name
		}
	}
	return login
}

type repo struct {
	name    string    // owner/name as GitHub spells it
	commits []*commit // main, oldest first
	items   map[int]*item
}

type commit struct {
	sha, title, author string
	date               time.Time
	pr                 int
}

// An item is an issue or a pull request: they share numbers, as on GitHub.
type item struct {
	number                int
	title, author, label  string
	pull, merged          bool
	mergedBy, mergeCommit string
	created, mergedAt     time.Time
}

// repoSpec describes a repository: its newest merged pull requests (the
// last is main's head), how many older ones come before them, the
// production commit among them, and its open issues.
type repoSpec struct {
	name     string
	areas    []string // "area: what" titles of the older pull requests
	older    int
	newest   []merge
	deployed string // the commit the architecture diagram names
	behind   int    // how many of newest come after it
	issues   []issueSpec
}

type merge struct {
	number        int
	title, author string
}

type issueSpec struct {
	number               int
	title, author, label string
}

// specs are the demo's repositories. The deployed commits are the ones
// the real diagram (internal/fixtures) names, so the page and !hash find
// them here.
var specs = []repoSpec{
	{
		name:  "osbuild/osbuild-composer",
		older: 27, deployed: "0e2daa201f0a0d97358a12740bfad416c9e4f7b4", behind: 2,
		areas: []string{"worker: report the upload target's region", "cloudapi: validate the blueprint's customizations early",
			"jobqueue: drop dependencies of cancelled jobs", "distro/fedora: add Fedora 44", "upload/gcp: share images with a group",
			"test: run the API tests against RHEL 9.6", "worker: time out stuck osbuild runs", "cloudapi: list composes by blueprint",
			"upload/azure: retry on a 429 from the blob store", "jobqueue: index jobs by channel", "docs: describe the worker's config"},
		newest: []merge{
			{4507, "worker: retry uploads to AWS on throttling", "dana-kowalska"},
			{4512, "cloudapi: accept a GCE image family", "luis-ortega"},
			{4515, "distro/rhel10: add the azure-rhui image type", "mei-tanaka"},
		},
		issues: []issueSpec{{4509, "Composes stay pending when the worker loses its token", "priya-raman", "bug"}},
	},
	{
		name:  "osbuild/image-builder-crc",
		older: 24, deployed: "85487bfb8a38ef53b0a89c59badecee53662a716", behind: 1,
		areas: []string{"v1: return the quota left with each compose", "db: index composes by org and date", "clients: forward the blueprint's version",
			"v1: reject unknown image types with a clear message", "logging: add the request id to every line", "v1: page through blueprints by name",
			"quotas: count only successful composes", "distribution: add CentOS Stream 10", "deps: bump the OpenAPI generator"},
		newest: []merge{
			{1688, "v1: expose the compose's upload status", "jonas-berg"},
			{1692, "quotas: raise the per-org limit for RHEL 10 composes", "priya-raman"},
		},
	},
	{
		name:  "osbuild/image-builder-frontend",
		older: 25, deployed: "654458c12dd8bba9ea8022b8250ab495c0bc8cbf", behind: 3,
		areas: []string{"Wizard: remember the last target environment", "Blueprints: sort by last edit", "ImagesTable: show the expiry date",
			"Cockpit: build images with the local worker", "Wizard: explain the FIPS option", "Blueprints: import from TOML",
			"i18n: mark the review step's strings", "ImagesTable: link to the compose's logs", "Wizard: validate the hostname as typed"},
		newest: []merge{
			{2968, "Wizard: add the WSL target", "mei-tanaka"},
			{2972, "Blueprints: show the distribution next to each name", "luis-ortega"},
			{2975, "Cockpit: keep the wizard's state across reloads", "dana-kowalska"},
			{2977, "ImagesTable: copy an image's ID with one click", "jonas-berg"},
		},
		issues: []issueSpec{
			{2931, "Wizard: keep the selected architecture when going back a step", "priya-raman", "cockpit-image-builder"},
			{2957, "Blueprint list: show the number of image builds next to each name", "jonas-berg", "cockpit-image-builder"},
			{2964, "Explain why an image type is greyed out for the chosen architecture", "ana-silva", "cockpit-image-builder"},
		},
	},
	{
		name:  "osbuild/osbuild",
		older: 26, deployed: "fd6801e380a87fb0026c1c73af7e17614fa6efb8", behind: 1,
		areas: []string{"stages/org.osbuild.grub2: support the BLS config", "sources/curl: retry on a reset connection",
			"stages/org.osbuild.selinux: label the files of the tree", "tools/osbuild-mpp: resolve the depsolve cache",
			"stages/org.osbuild.qemu: write vhd images aligned to 1 MiB", "test: run the stage tests on aarch64",
			"assemblers: drop the deprecated raw assembler", "stages/org.osbuild.users: set the home directory's mode"},
		newest: []merge{
			{2201, "stages/org.osbuild.sfdisk: accept partition attributes", "ondrej-novak"},
			{2204, "stages/org.osbuild.wsl: write the distribution's config", "mei-tanaka"},
		},
	},
	{
		name:  "osbuild/image-builder",
		older: 24, behind: 0,
		areas: []string{"distro/rhel10: add the wsl image type", "manifest: order the stages for bootc images", "blueprint: accept a kernel's cmdline",
			"cmd/image-builder: list the image types by distribution", "osbuild: pass the sources' secrets", "distro/fedora: build the minimal raw image"},
		newest: []merge{{1950, "cmd/image-builder: build from a blueprint file", "ondrej-novak"}},
	},
}

// NewWorld builds the demo's repositories, dated relative to now.
func NewWorld(now time.Time) *World {
	w := &World{repos: map[string]*repo{}, now: now}
	for _, s := range specs {
		w.repos[strings.ToLower(s.name)] = buildRepo(s, now)
	}
	return w
}

// buildRepo lays out s's history: older pull requests numbered below the
// newest, every few hours, the deployed sha where the spec puts it.
func buildRepo(s repoSpec, now time.Time) *repo {
	r := &repo{name: s.name, items: map[int]*item{}}
	for _, is := range s.issues {
		r.items[is.number] = &item{number: is.number, title: is.title, author: is.author, label: is.label, created: now.Add(-6 * 24 * time.Hour)}
	}
	total := s.older + len(s.newest)
	number := s.newest[0].number - 3*s.older
	for i := 0; i < total; i++ {
		var m merge
		if i < s.older {
			for r.items[number] != nil {
				number++
			}
			m = merge{number, s.areas[i%len(s.areas)], people[(i*3)%(len(people)-2)].login}
			if i >= len(s.areas) {
				m.title = fmt.Sprintf("%s (follow-up %d)", m.title, i/len(s.areas))
			}
			number += 3
		} else {
			m = s.newest[i-s.older]
		}
		at := now.Add(-time.Duration(total-i)*9*time.Hour - 3*time.Hour)
		sha := shaOf(s.name, m.number)
		if s.deployed != "" && i == total-1-s.behind {
			sha = s.deployed
		}
		r.commits = append(r.commits, &commit{sha: sha, title: fmt.Sprintf("%s (#%d)", m.title, m.number), author: m.author, date: at, pr: m.number})
		r.items[m.number] = &item{number: m.number, title: m.title, author: m.author, pull: true, merged: true,
			mergedBy: people[(i+1)%(len(people)-2)].login, mergeCommit: sha, created: at.Add(-30 * time.Hour), mergedAt: at}
	}
	return r
}

func shaOf(repo string, number int) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("%s#%d", repo, number)))
	return hex.EncodeToString(sum[:])
}

// Head is the sha of repo's main.
func (w *World) Head(repo string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.repos[strings.ToLower(repo)]
	return r.commits[len(r.commits)-1].sha
}

// Commit returns the title (with its "(#N)") and author's name of sha.
func (w *World) Commit(repo, sha string) (title, author string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.repos[strings.ToLower(repo)]
	if i := r.find(sha); i >= 0 {
		return r.commits[i].title, nameOf(r.commits[i].author), true
	}
	return "", "", false
}

// Behind counts the commits on main after sha, and returns their pull
// requests, oldest first.
func (w *World) Behind(repo, sha string) (int, []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.repos[strings.ToLower(repo)]
	i := r.find(sha)
	var prs []int
	for _, c := range r.commits[i+1:] {
		prs = append(prs, c.pr)
	}
	return len(r.commits) - 1 - i, prs
}

// Pull returns a pull request's title, whether it is merged and its
// merge commit.
func (w *World) Pull(repo string, number int) (title string, merged bool, sha string, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	it := w.repos[strings.ToLower(repo)].items[number]
	if it == nil || !it.pull {
		return "", false, "", false
	}
	return it.title, it.merged, it.mergeCommit, true
}

// Issue returns an issue's or pull request's title.
func (w *World) Issue(repo string, number int) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.repos[strings.ToLower(repo)]
	if !ok || r.items[number] == nil {
		return "", false
	}
	return r.items[number].title, true
}

// Open records a new issue or pull request (as a webhook announces it).
func (w *World) Open(repo string, number int, title, author string, pull bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.repos[strings.ToLower(repo)].items[number] = &item{number: number, title: title, author: author, pull: pull, created: time.Now()}
}

// Merge squash-merges an open pull request onto main and returns the new
// commit's sha.
func (w *World) Merge(repo string, number int, by string, at time.Time) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.repos[strings.ToLower(repo)]
	it := r.items[number]
	it.merged, it.mergedBy, it.mergedAt = true, by, at
	it.mergeCommit = shaOf(r.name, number)
	r.commits = append(r.commits, &commit{sha: it.mergeCommit, title: fmt.Sprintf("%s (#%d)", it.title, number), author: it.author, date: at, pr: number})
	return it.mergeCommit
}

// find is the index of the commit sha (or an unambiguous prefix of at
// least 7 characters) on main, or of main itself; -1 when there is none.
func (r *repo) find(ref string) int {
	if ref == "main" || ref == "HEAD" {
		return len(r.commits) - 1
	}
	found := -1
	for i, c := range r.commits {
		if c.sha == ref || (len(ref) >= 7 && strings.HasPrefix(c.sha, ref)) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

func sortedKeys[K int | string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
