package testenv

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// docsRepo is a repository's files as the fake serves them through the
// git data API: a tree of blobs named by their git object ids, and a
// commit that changes with any file.
type docsRepo struct {
	files  map[string][]byte // path in the repository -> content
	commit string
	at     time.Time
}

// SetDocs serves files (paths in the repository: "docs/user-guide/x.md")
// as repo's content: the last commit touching a folder (the commits API
// with path=), the tree of that commit (recursive) and each blob. Calling
// it again is a new commit.
func (g *GitHub) SetDocs(repo string, files map[string][]byte, at time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.docs == nil {
		g.docs = map[string]*docsRepo{}
	}
	h := sha1.New()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s %s\n", p, blobID(files[p]))
	}
	g.docs[strings.ToLower(repo)] = &docsRepo{files: files, commit: hex.EncodeToString(h.Sum(nil)), at: at}
}

// DocsFromFS reads every file under root of fsys as repository paths under
// folder (SetDocs's argument).
func DocsFromFS(fsys fs.FS, root, folder string) map[string][]byte {
	out := map[string][]byte{}
	fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(fsys, p)
			out[folder+strings.TrimPrefix(p, root)] = b
		}
		return nil
	})
	return out
}

// blobID is git's object id of a file: sha1 of "blob <size>\0<content>".
func blobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// hasFolder reports whether folder holds some of the files (the commits
// API asked for a file, such as the diagram, is answered as before).
func (d *docsRepo) hasFolder(folder string) bool {
	prefix := strings.Trim(folder, "/") + "/"
	for p := range d.files {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func (g *GitHub) docsOf(r *http.Request) *docsRepo {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.docs[strings.ToLower(r.PathValue("owner")+"/"+r.PathValue("repo"))]
}

// docsCommits answers the commits API for a folder of a docs repository:
// its one commit.
func (g *GitHub) docsCommits(w http.ResponseWriter, r *http.Request, d *docsRepo) {
	body, _ := json.Marshal([]any{map[string]any{
		"sha":    d.commit,
		"commit": map[string]any{"message": "docs: update", "committer": map[string]any{"date": d.at.UTC().Format(time.RFC3339)}},
	}})
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

func (g *GitHub) getTree(w http.ResponseWriter, r *http.Request) {
	d := g.docsOf(r)
	if d == nil || r.PathValue("sha") != d.commit {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	var entries []map[string]any
	dirs := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(d.files)) {
		for dir := p; strings.Contains(dir, "/"); {
			dir = dir[:strings.LastIndex(dir, "/")]
			if !dirs[dir] {
				dirs[dir] = true
				entries = append(entries, map[string]any{"path": dir, "type": "tree", "mode": "040000", "sha": blobID([]byte(dir))})
			}
		}
		entries = append(entries, map[string]any{"path": p, "type": "blob", "mode": "100644", "sha": blobID(d.files[p]), "size": len(d.files[p])})
	}
	slices.SortFunc(entries, func(a, b map[string]any) int { return strings.Compare(a["path"].(string), b["path"].(string)) })
	body, _ := json.Marshal(map[string]any{"sha": d.commit, "tree": entries, "truncated": false})
	g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
}

func (g *GitHub) getBlob(w http.ResponseWriter, r *http.Request) {
	d := g.docsOf(r)
	if d != nil {
		for _, b := range d.files {
			if blobID(b) == r.PathValue("sha") {
				if strings.Contains(r.Header.Get("Accept"), "raw") {
					g.send(w, r, b, "application/vnd.github.raw", time.Time{})
					return
				}
				body, _ := json.Marshal(map[string]any{"sha": blobID(b), "size": len(b), "encoding": "base64", "content": b})
				g.send(w, r, body, "application/json; charset=utf-8", time.Time{})
				return
			}
		}
	}
	http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
}
