package docs

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// IsPage reports whether a file of the docs folder is a page: markdown or
// MDX, not a partial (Docusaurus leaves out files and folders whose name
// starts with an underscore).
func IsPage(rel string) bool {
	ext := path.Ext(rel)
	if ext != ".md" && ext != ".mdx" {
		return false
	}
	for _, seg := range strings.Split(rel, "/") {
		if strings.HasPrefix(seg, "_") {
			return false
		}
	}
	return true
}

// ReadFolder reads every page under root in fsys (a local copy of the
// docs folder). A page that does not parse is left out and named in the
// errors; the others are read.
func ReadFolder(fsys fs.FS, root, base string) ([]Page, []error) {
	var pages []Page
	var errs []error
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		if d.IsDir() || !IsPage(rel) {
			return nil
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		page, err := ParsePage(rel, body, base)
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		pages = append(pages, page)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("reading %s: %w", root, err))
	}
	return pages, errs
}
