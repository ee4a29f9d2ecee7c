// Command build-dendrite builds (or finds in the cache) the Dendrite
// binaries the tests and the demo use, and prints where they are. CI runs
// it before the tests so the build's time is not charged to one test.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/osbuild/ibbot/internal/testenv"
)

func main() {
	dir, err := testenv.BuildDendrite(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
