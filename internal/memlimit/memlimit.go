// Package memlimit gives Go's garbage collector the container's memory
// limit, which the runtime does not read by itself: without it the heap
// may grow to twice what is live before a collection, and a container
// whose live heap is half its limit is killed while it builds its search
// index at start.
package memlimit

import (
	"fmt"
	"io/fs"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// Share is the part of the container's limit Go's heap may take. The rest
// is for what the runtime does not count: SQLite's pages (modernc's
// allocator maps its own memory), goroutine stacks in flight, the
// kernel's buffers.
const Share = 0.9

// unlimited is where cgroup v1 says "no limit": a number near the largest
// page count, not a word.
const unlimited = 1 << 62

// Container is the memory limit of the container the process runs in, in
// bytes, read from fsys rooted at /sys/fs/cgroup: cgroup v2's memory.max,
// else cgroup v1's memory/memory.limit_in_bytes. False when there is none.
func Container(fsys fs.FS) (int64, bool) {
	for _, name := range []string{"memory.max", "memory/memory.limit_in_bytes"} {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			continue
		}
		text := strings.TrimSpace(string(data))
		if text == "max" {
			return 0, false
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n <= 0 || n >= unlimited {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// Apply sets Go's soft memory limit to Share of the container's, unless
// the operator set GOMEMLIMIT (the runtime read it already) or there is
// no limit. It says what it did, for the log.
func Apply(fsys fs.FS, getenv func(string) string) string {
	if v := getenv("GOMEMLIMIT"); v != "" {
		return fmt.Sprintf("Go's memory limit is GOMEMLIMIT=%s", v)
	}
	limit, ok := Container(fsys)
	if !ok {
		return "no container memory limit: Go's memory limit left unset"
	}
	set := int64(math.Floor(float64(limit) * Share))
	debug.SetMemoryLimit(set)
	return fmt.Sprintf("Go's memory limit set to %s, %.0f%% of the container's %s", mib(set), Share*100, mib(limit))
}

func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
