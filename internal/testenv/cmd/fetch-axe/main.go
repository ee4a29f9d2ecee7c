// Command fetch-axe downloads axe-core (the accessibility rules the status
// page's browser test runs) from the npm registry, checks its pinned
// integrity hash, and prints where it keeps it. CI runs it before the
// tests, which never reach the internet themselves.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/osbuild/ibbot/internal/testenv"
)

func main() {
	path, err := testenv.FetchAxeCore(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(path)
}
