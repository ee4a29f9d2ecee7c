package prodhash

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/internal/fixtures"
)

type expectedLink struct {
	AnchorID string  `json:"anchor_id"`
	Label    string  `json:"label"`
	Href     string  `json:"href"`
	Repo     string  `json:"repo"`
	URLKind  *string `json:"url_kind"`
	SHA      *string `json:"sha"`
	Onclick  *string `json:"g_onclick"`
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestParseDiagramFixtures parses every stored version of the real diagram
// and compares with expected.json.
func TestParseDiagramFixtures(t *testing.T) {
	raw, err := fixtures.FS.ReadFile("diagram/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct {
		Components []expectedLink `json:"components"`
	}
	if err := json.Unmarshal(raw, &expected); err != nil {
		t.Fatal(err)
	}
	if len(expected) < 5 {
		t.Fatalf("only %d fixtures", len(expected))
	}
	for file, want := range expected {
		t.Run(file, func(t *testing.T) {
			data, err := fixtures.FS.ReadFile("diagram/" + file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseDiagram(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want.Components) {
				t.Fatalf("%d links, want %d: %+v", len(got), len(want.Components), got)
			}
			for i, w := range want.Components {
				g := got[i]
				wl := DiagramLink{AnchorID: w.AnchorID, Label: w.Label, Href: w.Href, Repo: w.Repo,
					URLKind: deref(w.URLKind), SHA: deref(w.SHA), Onclick: deref(w.Onclick)}
				if g != wl {
					t.Errorf("link %d:\n got  %+v\n want %+v", i, g, wl)
				}
			}
		})
	}
}

func TestParseDiagramRejectsGarbage(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"not xml":     "<<<>>>",
		"html":        "<html><a href='https://github.com/a/b'>x</a></html>",
		"no links":    `<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>`,
		"truncated":   `<svg><a xlink:href="https://github.com/a/b/tree/abcdef1"><text>x`,
		"other hosts": `<svg><a href="https://example.org/a/b">x</a></svg>`,
	} {
		if _, err := ParseDiagram(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseDiagram(f *testing.F) {
	files, _ := fs.Glob(fixtures.FS, "diagram/*.svg")
	for _, file := range files {
		data, _ := fixtures.FS.ReadFile(file)
		f.Add(data)
	}
	f.Add([]byte(`<svg><a href="https://github.com/a/b/commits/ABCDEF1"><g onclick="x"><text><tspan>a-</tspan><tspan>b</tspan></text></g></a></svg>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		links, err := ParseDiagram(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, l := range links {
			if l.Repo == "" || strings.Count(l.Repo, "/") != 1 {
				t.Fatalf("link with bad repo %q", l.Repo)
			}
			if l.SHA != "" && !shaPattern.MatchString(l.SHA) {
				t.Fatalf("bad sha %q", l.SHA)
			}
		}
	})
}
