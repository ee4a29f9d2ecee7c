package demo

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/osbuild/ibbot/internal/testenv"
)

// The demo's GitHub data is written in the shape of GitHub's responses but
// made up, to look like Image Builder's own activity: commits with the
// project's kind of titles, newcomer issues in its repositories. None of it
// is real; names are invented, and every title says nothing about the real
// projects' state.

// demoCommit is a commit object as GitHub's API writes it.
func demoCommit(repo, sha, title, author string, age time.Duration, now time.Time) json.RawMessage {
	date := now.Add(-age).UTC().Format(time.RFC3339)
	b, _ := json.Marshal(map[string]any{
		"sha": sha, "html_url": fmt.Sprintf("https://github.com/%s/commit/%s", repo, sha),
		"commit": map[string]any{
			"message":   title,
			"author":    map[string]any{"name": author, "email": "demo@example.org", "date": date},
			"committer": map[string]any{"name": author, "email": "demo@example.org", "date": date},
		},
		"author": map[string]any{"login": strings.ToLower(strings.ReplaceAll(author, " ", "-"))},
	})
	return b
}

// serveImageBuilderData makes the fake GitHub answer with the demo data:
// production 2 commits behind main, and newcomer issues to list.
func serveImageBuilderData(gh *testenv.GitHub, now time.Time) {
	const repo = "osbuild/osbuild-composer"
	day := 24 * time.Hour
	gh.SetComparison(
		demoCommit(repo, "0e2daa201f0a0d97358a12740bfad416c9e4f7b4", "worker: retry uploads to AWS on throttling (#4507)", "Dana Kowalska", 3*day, now),
		demoCommit(repo, "a7e1ca2f6b1d3c9e8f00112233445566778899aa", "cloudapi: accept a GCE image family (#4512)", "Luis Ortega", 2*day, now),
		demoCommit(repo, "b3d4e5f60718293a4b5c6d7e8f9001122334455b", "distro/rhel10: add the azure-rhui image type (#4515)", "Mei Tanaka", 20*time.Hour, now),
	)
	type issue struct {
		repo, title, label string
		number             int
	}
	var items []map[string]any
	for _, is := range []issue{
		{"osbuild/image-builder-frontend", "Wizard: keep the selected architecture when going back a step", "cockpit-image-builder", 2931},
		{"osbuild/image-builder-frontend", "Blueprint list: show the distribution next to each name", "cockpit-image-builder", 2957},
		{"osbuild/image-builder-frontend", "Explain why an image type is greyed out for the chosen architecture", "cockpit-image-builder", 2964},
	} {
		items = append(items, map[string]any{
			"number": is.number, "title": is.title, "state": "open",
			"html_url":       fmt.Sprintf("https://github.com/%s/issues/%d", is.repo, is.number),
			"repository_url": "https://api.github.com/repos/" + is.repo,
			"labels":         []map[string]any{{"name": is.label}},
			"user":           map[string]any{"login": "demo-maintainer", "type": "User"},
			"created_at":     now.Add(-5 * day).UTC().Format(time.RFC3339),
		})
	}
	search, _ := json.Marshal(map[string]any{"total_count": len(items), "incomplete_results": false, "items": items})
	gh.SetSearch(search)
	gh.SetPulls(repo, demoPull(repo, 4512, "cloudapi: accept a GCE image family", "a7e1ca2f6b1d3c9e8f00112233445566778899aa", now.Add(-2*day)))
}

// demoPull is a merged pull request object as GitHub's API writes it.
func demoPull(repo string, number int, title, mergeSHA string, merged time.Time) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"number": number, "title": title, "state": "closed", "merged": true,
		"merge_commit_sha": mergeSHA, "merged_at": merged.UTC().Format(time.RFC3339),
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", repo, number),
		"user":     map[string]any{"login": "luis-ortega", "type": "User"},
	})
	return b
}

// demoRepo stands in for the recorded deliveries' Codertocat/Hello-World.
const demoRepo = "osbuild/image-builder-frontend"

// imageBuilderDelivery is a real recorded delivery moved to demoRepo,
// with the item's title and author (and anything else) set by edit.
func imageBuilderDelivery(file string, number int, title, author string, edit func(map[string]any)) []byte {
	body := testenv.FreshDelivery(file, func(o map[string]any) {
		o["number"], o["title"] = number, title
		kind := "issues"
		if _, pr := o["head"]; pr {
			kind = "pull"
		}
		o["html_url"] = fmt.Sprintf("https://github.com/%s/%s/%d", demoRepo, kind, number)
		o["user"].(map[string]any)["login"] = author
		o["labels"] = []map[string]any{}
		if edit != nil {
			edit(o)
		}
	})
	return []byte(strings.ReplaceAll(string(body), "Codertocat/Hello-World", demoRepo))
}
