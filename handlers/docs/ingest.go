package docs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Folder is where a documentation folder's pages come from.
type Folder interface {
	// Files lists the pages (paths under the folder) with an id that
	// changes with their content, and a version that changes with any of
	// them; an unchanged version means unchanged files, and may return no
	// list.
	Files(ctx context.Context, since string) (version string, files map[string]string, err error)
	// Read is a page's content, by its path and id.
	Read(ctx context.Context, rel, id string) ([]byte, error)
}

// GitHubFolder reads a folder of a repository through GitHub's API: the
// last commit touching the folder says whether anything changed (a
// conditional request: unchanged costs a 304 and no rate limit), the
// commit's tree lists the pages with their blob ids, and only changed
// blobs are fetched.
type GitHubFolder struct {
	Client      *gh.Client
	Owner, Repo string
	Ref         string // "": the default branch
	Path        string // the folder in the repository
}

// Files implements Folder.
func (g *GitHubFolder) Files(ctx context.Context, since string) (string, map[string]string, error) {
	commits, _, err := g.Client.Repositories.ListCommits(ctx, g.Owner, g.Repo,
		&gh.CommitsListOptions{SHA: g.Ref, Path: g.Path, ListOptions: gh.ListOptions{PerPage: 1}})
	if err != nil {
		return "", nil, fmt.Errorf("asking GitHub for the last change of %s/%s/%s: %w", g.Owner, g.Repo, g.Path, err)
	}
	if len(commits) == 0 {
		return "", nil, fmt.Errorf("%s/%s has no commit touching %s", g.Owner, g.Repo, g.Path)
	}
	version := commits[0].GetSHA()
	if version == since {
		return version, nil, nil
	}
	tree, _, err := g.Client.Git.GetTree(ctx, g.Owner, g.Repo, version, true)
	if err != nil {
		return "", nil, fmt.Errorf("listing %s/%s at %s: %w", g.Owner, g.Repo, version, err)
	}
	if tree.GetTruncated() {
		return "", nil, fmt.Errorf("%s/%s's tree is too large for one listing", g.Owner, g.Repo)
	}
	files := map[string]string{}
	prefix := strings.Trim(g.Path, "/") + "/"
	for _, e := range tree.Entries {
		rel, ok := strings.CutPrefix(e.GetPath(), prefix)
		if ok && e.GetType() == "blob" && IsPage(rel) {
			files[rel] = e.GetSHA()
		}
	}
	return version, files, nil
}

// Read implements Folder.
func (g *GitHubFolder) Read(ctx context.Context, rel, id string) ([]byte, error) {
	b, _, err := g.Client.Git.GetBlobRaw(ctx, g.Owner, g.Repo, id)
	if err != nil {
		return nil, fmt.Errorf("reading %s from GitHub: %w", rel, err)
	}
	return b, nil
}

// LocalFolder reads a folder on disk (or any fs.FS): each round hashes
// the pages, which for a documentation folder is a few hundred
// kilobytes.
type LocalFolder struct {
	FS fs.FS
}

// NewLocalFolder reads the folder at dir.
func NewLocalFolder(dir string) LocalFolder { return LocalFolder{FS: os.DirFS(dir)} }

// Files implements Folder.
func (l LocalFolder) Files(ctx context.Context, since string) (string, map[string]string, error) {
	files := map[string]string{}
	err := fs.WalkDir(l.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !IsPage(p) {
			return nil
		}
		b, err := fs.ReadFile(l.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files[p] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("reading the documentation folder: %w", err)
	}
	if len(files) == 0 {
		return "", nil, errors.New("the documentation folder has no markdown pages")
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s %s\n", k, files[k])
	}
	return hex.EncodeToString(h.Sum(nil)), files, nil
}

// Read implements Folder.
func (l LocalFolder) Read(ctx context.Context, rel, id string) ([]byte, error) {
	return fs.ReadFile(l.FS, rel)
}
