package mail

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/osbuild/ibbot/bot"
	"github.com/osbuild/ibbot/internal/golden"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func describe(m *Mail) string {
	var b strings.Builder
	fmt.Fprintf(&b, "message-id: %s\nparent: %s\nancestors: %v\nkind: %s\nlist-ids: %v\nsubject: %s\nraw subject: %s\nauthor: %s <%s>\ndate: %s\narchive: %s\n",
		m.MessageID, m.Parent, m.Ancestors, m.Kind, m.ListIDs, m.Subject, m.RawSubject, m.Author, m.AuthorAddr, m.Date.UTC().Format("2006-01-02 15:04"), m.ArchiveURL)
	for _, a := range m.Attachments {
		fmt.Fprintf(&b, "attachment: %s (%s, %d bytes)\n", a.Name, a.Type, a.Size)
	}
	fmt.Fprintf(&b, "body:\n%s\n", m.Body)
	return b.String()
}

// TestParseFixturesGolden parses every real (and realistic) list mail.
func TestParseFixturesGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	if len(files) < 20 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		name := filepath.Base(f)
		m, err := Parse(fixture(t, name), DefaultLimits)
		out := ""
		if err != nil {
			out = "error: " + err.Error() + "\n"
		} else {
			out = describe(m)
		}
		golden.Check(t, "parse-"+strings.TrimSuffix(name, ".eml")+".golden", out)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, Limits{MaxMailBytes: 1 << 20, MaxBodyChars: 2000})
		if err != nil {
			return
		}
		if m.MessageID == "" {
			t.Fatal("parsed a mail without a Message-ID")
		}
		if len([]rune(m.Body)) > 2001 {
			t.Fatalf("body of %d characters beyond the limit", len([]rune(m.Body)))
		}
		// Whatever the mail says, what is posted pings no one and carries
		// no markup of the sender's.
		for _, r := range []bot.Reply{RenderThread(m, m.Excerpt(400), 0), RenderThread(m, m.Excerpt(400), 3), RenderReply(m, 400)} {
			for _, text := range []string{r.Plain, r.HTML} {
				if strings.Contains(strings.ToLower(text), "@room") {
					t.Fatalf("rendered text can ping the room: %q", text)
				}
			}
			if strings.Contains(strings.ToLower(r.HTML), "<script") || strings.Contains(strings.ToLower(r.HTML), "<img") {
				t.Fatalf("the sender's markup reached the HTML: %q", r.HTML)
			}
		}
	})
}

// BenchmarkParseCorpus parses the whole fixture corpus; mails/s is the
// figure to watch.
func BenchmarkParseCorpus(b *testing.B) {
	files, _ := filepath.Glob("testdata/mail/*.eml")
	var corpus [][]byte
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		corpus = append(corpus, raw)
	}
	b.ResetTimer()
	for range b.N {
		for _, raw := range corpus {
			Parse(raw, DefaultLimits)
		}
	}
	b.ReportMetric(float64(b.N*len(corpus))/b.Elapsed().Seconds(), "mails/s")
}
