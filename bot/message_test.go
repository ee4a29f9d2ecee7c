package bot

import (
	"encoding/json"
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

// TestLongRepliesFitOneEvent: a reply too long for one Matrix event is
// cut at a line boundary, as plain text, and says so; a short one is left
// alone.
func TestLongRepliesFitOneEvent(t *testing.T) {
	short := new(Msg).Bold("ok").Reply()
	if got := fit(short); got != short {
		t.Errorf("a short reply changed: %+v", got)
	}
	m := new(Msg)
	for i := range 3000 {
		m.Line().Textf("line %d <with> & \"escapes\" ünïcödé", i)
	}
	long := m.Reply()
	got := fit(long)
	raw, _ := json.Marshal(noticeContent(long, "$q", ""))
	if len(raw) > maxContentBytes+512 {
		t.Errorf("the notice is %d bytes as JSON, over %d", len(raw), maxContentBytes)
	}
	if got.HTML != "" || !strings.HasSuffix(got.Plain, cutNote) || !strings.HasPrefix(long.Plain, strings.TrimSuffix(got.Plain, cutNote)) {
		t.Errorf("cut reply: HTML %d bytes, plain ends %q", len(got.HTML), got.Plain[len(got.Plain)-80:])
	}
	if before := strings.TrimSuffix(got.Plain, cutNote); !strings.HasPrefix(long.Plain[len(before):], "\n") {
		t.Errorf("cut in the middle of a line: ...%q", before[len(before)-20:])
	}
}
