package prodhash

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"
)

// Commit is one commit as people want to read it.
type Commit struct {
	SHA    string
	Title  string // first line of the message
	Author string
	Date   time.Time
	URL    string
	PR     int // the pull request a merge commit names, or 0
}

// Comparison is how far a deployed commit is behind the branch.
type Comparison struct {
	Base    Commit   // the deployed commit
	Behind  int      // commits on the branch not deployed
	Removed int      // commits of base that head lacks: head is older (a rollback) or diverged
	Pending []Commit // those commits, oldest first (GitHub returns at most 250)
	URL     string   // GitHub's compare page
}

// Comparer asks GitHub how a commit relates to a branch, keeping answers
// for a TTL so a warm !hash needs no network at all.
type Comparer struct {
	gh  *github.Client
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedComparison
}

type cachedComparison struct {
	at  time.Time
	cmp *Comparison
}

// NewComparer uses gh and keeps answers for ttl.
func NewComparer(gh *github.Client, ttl time.Duration, now func() time.Time) *Comparer {
	return &Comparer{gh: gh, ttl: ttl, now: now, cache: map[string]cachedComparison{}}
}

// Compare returns how base (a deployed sha) relates to head (a branch).
func (c *Comparer) Compare(ctx context.Context, repo, base, head string) (*Comparison, error) {
	key := repo + "@" + base + "..." + head
	c.mu.Lock()
	if hit, ok := c.cache[key]; ok && c.now().Sub(hit.at) < c.ttl {
		c.mu.Unlock()
		return hit.cmp, nil
	}
	c.mu.Unlock()
	owner, name, _ := strings.Cut(repo, "/")
	raw, _, err := c.gh.Repositories.CompareCommits(ctx, owner, name, base, head, nil)
	if err != nil {
		return nil, err
	}
	cmp := &Comparison{Base: toCommit(raw.GetBaseCommit()), Behind: raw.GetAheadBy(), Removed: raw.GetBehindBy(), URL: raw.GetHTMLURL()}
	for _, rc := range raw.Commits {
		cmp.Pending = append(cmp.Pending, toCommit(rc))
	}
	c.mu.Lock()
	c.cache[key] = cachedComparison{at: c.now(), cmp: cmp}
	c.mu.Unlock()
	return cmp, nil
}

var mergePR = regexp.MustCompile(`^Merge pull request #(\d+)`)
var squashPR = regexp.MustCompile(`\(#(\d+)\)$`)

func toCommit(rc *github.RepositoryCommit) Commit {
	msg := rc.GetCommit().GetMessage()
	title, body, _ := strings.Cut(msg, "\n")
	c := Commit{
		SHA: rc.GetSHA(), Title: strings.TrimSpace(title), URL: rc.GetHTMLURL(),
		Author: rc.GetCommit().GetAuthor().GetName(), Date: rc.GetCommit().GetAuthor().GetDate().Time,
	}
	if m := mergePR.FindStringSubmatch(c.Title); m != nil {
		c.PR, _ = strconv.Atoi(m[1])
		// "Merge pull request #1 from x/y" says little; the PR title is
		// the first line of the body.
		if t := strings.TrimSpace(strings.SplitN(strings.TrimSpace(body), "\n", 2)[0]); t != "" {
			c.Title = t
		}
	} else if m := squashPR.FindStringSubmatch(c.Title); m != nil {
		c.PR, _ = strconv.Atoi(m[1])
	}
	return c
}

// Merged returns the pending commits that carry a pull request number:
// the merged changes a deploy brings.
func (c *Comparison) Merged() []Commit {
	var out []Commit
	for _, p := range c.Pending {
		if p.PR > 0 {
			out = append(out, p)
		}
	}
	return out
}
