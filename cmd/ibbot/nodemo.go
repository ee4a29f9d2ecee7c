//go:build nodemo

package main

import (
	"context"
	"errors"
	"io"
)

// runDemo in a release build (-tags nodemo) explains where the demo is.
func runDemo(context.Context, io.Writer, bool) error {
	return errors.New("this build has no demo (release builds leave the test servers out); from a checkout, run `go run ./cmd/ibbot demo`")
}
