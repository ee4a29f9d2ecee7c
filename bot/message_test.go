package bot

import (
	"strings"
	"testing"
)

// TestOnlyWebAndMailLinksAreLinked: outside text decides many links (an
// archive header, an issue URL); only http, https and mailto become
// anchors, anything else is shown as text.
func TestOnlyWebAndMailLinksAreLinked(t *testing.T) {
	for href, linked := range map[string]bool{
		"https://github.com/osbuild/osbuild/pull/1": true,
		"http://lists.example.org/archives/x":       true,
		"mailto:image-builder@example.org":          true,
		"javascript:alert(1)":                       false,
		"JavaScript:alert(1)":                       false,
		" javascript:alert(1)":                      false,
		"data:text/html,<script>alert(1)</script>":  false,
		"file:///etc/passwd":                        false,
		"https:///no-host":                          false,
		"//evil.example/x":                          false,
		"mailto:":                                   false,
	} {
		r := new(Msg).Link("archive", href).Reply()
		if got := strings.Contains(r.HTML, "<a "); got != linked {
			t.Errorf("Link(%q): anchor = %v, want %v (html %q)", href, got, linked, r.HTML)
		}
		if !linked && strings.Contains(r.Plain, href) {
			t.Errorf("Link(%q): the unsafe URL is shown: %q", href, r.Plain)
		}
	}
}
