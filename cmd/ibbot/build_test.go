package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPlainBuildNeedsNoC: `go build -tags goolm ./cmd/ibbot` compiles no
// C on any machine, gcc or not. Only standard-library packages (net,
// os/user, which pick cgo themselves when they can) may have cgo files,
// and exactly one SQLite driver, the pure-Go one, is linked.
func TestPlainBuildNeedsNoC(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "goolm",
		"-f", `{{.ImportPath}} {{.Standard}} {{len .CgoFiles}}`, ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var drivers []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var pkg, std, cgoFiles string
		fields := strings.Fields(line)
		pkg, std, cgoFiles = fields[0], fields[1], fields[2]
		if cgoFiles != "0" && std != "true" {
			t.Errorf("%s has cgo files: the plain build would compile C", pkg)
		}
		if pkg == "modernc.org/sqlite" || pkg == "github.com/mattn/go-sqlite3" || strings.HasSuffix(pkg, "/litestream") {
			drivers = append(drivers, pkg)
		}
	}
	if len(drivers) != 1 || drivers[0] != "modernc.org/sqlite" {
		t.Errorf("SQLite drivers linked: %v; want only modernc.org/sqlite", drivers)
	}
}
