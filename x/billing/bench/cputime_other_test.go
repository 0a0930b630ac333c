//go:build !linux

package bench

import "time"

// threadCPU is unavailable off Linux: only wall-clock times are reported.
func threadCPU() (time.Duration, bool) { return 0, false }
