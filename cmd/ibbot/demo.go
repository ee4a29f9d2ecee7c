//go:build !nodemo

package main

import (
	"context"
	"io"

	"github.com/osbuild/ibbot/internal/demo"
)

// runDemo runs `ibbot demo`. The demo brings the test servers (a Dendrite
// it builds, a fake GitHub, an in-process IMAP server), so the released
// binary is built with -tags nodemo (tools/build.sh) and has none of them.
func runDemo(ctx context.Context, stdout io.Writer, keep bool) error {
	return demo.Run(ctx, stdout, demo.Options{Keep: keep})
}
