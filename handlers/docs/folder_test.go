package docs

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/osbuild/ibbot/internal/fixtures"
)

// question is one of the relevance set's.
type question struct {
	Q       string   `yaml:"q"`
	Source  string   `yaml:"source"`
	Answers []string `yaml:"answers"`
}

// TestEveryAnswerIsASection: the test pages all parse, and each answer
// the relevance set expects is the address of a section of them, so the
// set cannot drift from the pages.
func TestEveryAnswerIsASection(t *testing.T) {
	pages, errs := ReadFolder(fixtures.FS, "docs/docs", base)
	for _, err := range errs {
		t.Error(err)
	}
	if len(pages) < 30 {
		t.Fatalf("%d pages, want a few dozen", len(pages))
	}
	sections := map[string]bool{}
	for _, p := range pages {
		for _, s := range p.Sections {
			sections[s.Address] = true
		}
	}
	var qs []question
	if err := yaml.Unmarshal(fixtures.Read("docs/questions.yaml"), &qs); err != nil {
		t.Fatal(err)
	}
	if len(qs) < 30 {
		t.Fatalf("%d questions, want at least 30", len(qs))
	}
	for _, q := range qs {
		if q.Source == "" || len(q.Answers) == 0 {
			t.Errorf("%q has no source or no answer", q.Q)
		}
		for _, a := range q.Answers {
			if !sections[base+a] {
				t.Errorf("%q expects %s, which is no section of the pages", q.Q, a)
			}
		}
	}
}

func TestPartialsAreNoPages(t *testing.T) {
	for rel, want := range map[string]bool{"a/b.md": true, "a/b.mdx": true, "a/_partial.md": false, "_shared/x.md": false, "a/img.png": false} {
		if IsPage(rel) != want {
			t.Errorf("IsPage(%q) = %v", rel, !want)
		}
	}
}
