package safe

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestCallTurnsAPanicIntoAnError(t *testing.T) {
	var logs bytes.Buffer
	err := Call(zerolog.New(&logs), "The deploy check crashed", func() error { panic("a bug") })
	var p *Panic
	if !errors.As(err, &p) || p.Value != "a bug" || err.Error() != "crashed: a bug" {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(logs.String(), "The deploy check crashed") || !strings.Contains(logs.String(), "safe_test.go") {
		t.Errorf("the log lacks the message or the stack: %s", logs.String())
	}
	want := errors.New("plain")
	if err := Call(zerolog.Nop(), "x", func() error { return want }); err != want {
		t.Errorf("an ordinary error came back as %v", err)
	}
}
