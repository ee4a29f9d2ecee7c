package docs

import (
	"strings"
	"testing"
)

const base = "https://osbuild.org/docs/"

// TestAddressesAsPublished: the addresses osbuild.org gives its pages
// (checked against the published site), and Docusaurus's rules around
// them.
func TestAddressesAsPublished(t *testing.T) {
	for _, c := range []struct{ rel, id, slug, want string }{
		{"user-guide/01-blueprint-reference.md", "", "", "user-guide/blueprint-reference/"},
		{"user-guide/04-uploading-cloud-images/01-uploading-to-aws.md", "", "", "user-guide/uploading-cloud-images/uploading-to-aws/"},
		{"bootc/index.md", "", "", "bootc/"},
		{"developer-guide/01-general/index.md", "01-general", "", "developer-guide/general/"},
		{"developer-guide/00-index.md", "", "", "developer-guide/index/"},
		{"developer-guide/README.mdx", "", "", "developer-guide/"},
		{"guides/guides.md", "", "", "guides/"},
		{"user-guide/02-installation.md", "install", "", "user-guide/install/"},
		{"user-guide/02-installation.md", "", "/getting-started", "getting-started/"},
		{"user-guide/02-installation.md", "", "setup", "user-guide/setup/"},
		{"10-faq.mdx", "", "", "faq/"},
		{"2024-notes.md", "", "", "notes/"},
		{"2021-01-release.md", "", "", "2021-01-release/"},
		{"user-guide/my page.md", "", "", "user-guide/my%20page/"},
	} {
		if got := PageAddress(base, c.rel, c.id, c.slug); got != base+c.want {
			t.Errorf("%s (id %q, slug %q): %s, want %s", c.rel, c.id, c.slug, got, base+c.want)
		}
	}
}

func TestAnchorsAsDocusaurusMakesThem(t *testing.T) {
	for heading, want := range map[string]string{
		"Getting Started":                         "getting-started",
		"Using `composer-cli`":                    "using-composer-cli",
		"What's new in 2.0?":                      "whats-new-in-20",
		"Upload to [AWS](https://aws.amazon.com)": "upload-to-aws",
		"Custom {#my-id}":                         "my-id",
		"image_type and disk_size":                "image_type-and-disk_size",
		"Partitioning: LVM & Btrfs":               "partitioning-lvm--btrfs",
	} {
		if _, got := Anchor(heading); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

const mdxPage = `---
id: 01-blueprint-reference
title: Blueprint Reference
---

import Tabs from '@theme/Tabs';
import TabItem from '@theme/TabItem';

Blueprints are **TOML** or JSON files that describe a [customized image](../images.md).

:::note Blueprints are versioned
Each change bumps the version.
:::

## Users {#users}

Add a user with <Highlight color="#25c2a0">customizations.user</Highlight>:

<Tabs>
<TabItem value="toml" label="TOML">

` + "```toml" + `
[[customizations.user]]
name = "admin"
` + "```" + `

</TabItem>
</Tabs>

### Users
A second heading with the same words.

## Users

#### Groups
Groups too.

{/* an MDX comment that no one reads */}
<!-- nor this -->
`

// TestPagesBecomeSections: the front matter names the page, the
// introduction and each ## and ### heading are sections with their
// anchors, code is kept, markup and components are read away.
func TestPagesBecomeSections(t *testing.T) {
	p, err := ParsePage("user-guide/01-blueprint-reference.md", []byte(mdxPage), base)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Blueprint Reference" || p.Address != base+"user-guide/01-blueprint-reference/" {
		t.Errorf("page %q at %s", p.Title, p.Address)
	}
	want := []struct{ heading, address, has string }{
		{"", "user-guide/01-blueprint-reference/", "Blueprints are TOML or JSON files that describe a customized image."},
		{"Users", "user-guide/01-blueprint-reference/#users", `[[customizations.user]]`},
		{"Users", "user-guide/01-blueprint-reference/#users-1", "A second heading"},
		{"Users", "user-guide/01-blueprint-reference/#users-2", "Groups too."},
	}
	if len(p.Sections) != len(want) {
		t.Fatalf("%d sections, want %d: %+v", len(p.Sections), len(want), p.Sections)
	}
	for i, w := range want {
		s := p.Sections[i]
		if s.Heading != w.heading || s.Address != base+w.address || !strings.Contains(s.Text, w.has) {
			t.Errorf("section %d: %q at %s:\n%s\nwant %q at %s with %q", i, s.Heading, s.Address, s.Text, w.heading, base+w.address, w.has)
		}
	}
	all := ""
	for _, s := range p.Sections {
		all += s.Text + "\n"
	}
	for _, gone := range []string{"import", "<Tabs", "TabItem", "Highlight", ":::", "MDX comment", "nor this", "**", "(../images.md)"} {
		if strings.Contains(all, gone) {
			t.Errorf("%q was not read away:\n%s", gone, all)
		}
	}
	for _, kept := range []string{"Blueprints are versioned", "customizations.user", `name = "admin"`} {
		if !strings.Contains(all, kept) {
			t.Errorf("%q was lost:\n%s", kept, all)
		}
	}
}

func TestTitleFallsBackToTheFirstHeadingThenTheFile(t *testing.T) {
	p, _ := ParsePage("a/03-building-isos.md", []byte("# Building ISOs\n\ntext"), base)
	q, _ := ParsePage("a/03-building-isos.md", []byte("just text"), base)
	if p.Title != "Building ISOs" || q.Title != "building-isos" {
		t.Errorf("titles %q and %q", p.Title, q.Title)
	}
}

func TestBrokenFrontMatterIsAnError(t *testing.T) {
	for _, body := range []string{"---\ntitle: [unclosed\n---\ntext", "---\ntitle: x\nno end"} {
		if _, err := ParsePage("x.md", []byte(body), base); err == nil {
			t.Errorf("%q accepted", body)
		}
	}
}

func FuzzParsePage(f *testing.F) {
	f.Add("user-guide/01-x.md", mdxPage)
	f.Add("index.md", "---\nslug: /\n---\n# T\n## A {#a}\n```\n## not a heading\n```\n")
	f.Fuzz(func(t *testing.T, rel, body string) {
		p, err := ParsePage(rel, []byte(body), base)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p.Address, base) || !strings.HasSuffix(p.Address, "/") {
			t.Fatalf("address %q", p.Address)
		}
		for _, s := range p.Sections {
			if !strings.HasPrefix(s.Address, p.Address) || strings.Contains(s.Address, " ") {
				t.Fatalf("section address %q of page %q", s.Address, p.Address)
			}
		}
	})
}
