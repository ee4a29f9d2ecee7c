package mail

import "testing"

func TestOwnWordsLeaveQuotesOut(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"On Mon, Nov 09, 2026 at 08:00:00PM +0100, Ana Silva wrote:\n> Can I?\n\nYes.\n\n> And?\n\nNo.", "Yes.\n\nNo."},
		{"On Mon, Nov 09, 2026 at 08:00:00PM +0100, Ana Silva\n<ana@example.org> wrote:\n> Can I?\nYes.", "Yes."},
		{"Top post.\n\n-----Original Message-----", "Top post."},
		{"> only a quote", ""},
		{"No quote at all.\nTwo lines.", "No quote at all.\nTwo lines."},
	} {
		if got := ownWords(c.in); got != c.want {
			t.Errorf("ownWords(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
