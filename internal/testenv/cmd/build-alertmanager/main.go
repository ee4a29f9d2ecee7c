// Command build-alertmanager builds (or finds in the cache) the
// Alertmanager the alerts receiver's end-to-end test runs, and prints
// where it is. CI runs it before the tests, as build-dendrite.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/osbuild/ibbot/internal/testenv"
)

func main() {
	dir, err := testenv.BuildAlertmanager(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(dir)
}
