// Package buildinfo says which ibbot this is: version and commit, from
// -ldflags when the release build sets them, else from the Go build info.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the release build: -ldflags "-X github.com/osbuild/ibbot/internal/buildinfo.version=v1.2.3 ...".
var (
	version = ""
	commit  = ""
)

// Info describes the running binary.
type Info struct {
	Version   string
	Commit    string
	GoVersion string
}

// Read returns the build's Info.
func Read() Info {
	info := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && info.Commit == "" {
				info.Commit = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "devel"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	if len(info.Commit) > 12 {
		info.Commit = info.Commit[:12]
	}
	return info
}
