package bench

import (
	"time"

	"golang.org/x/sys/unix"
)

// threadCPU is the CPU time (user + system) the calling OS thread has used; the caller locks its
// goroutine to the thread, so the difference over a call is that call's own CPU time, whatever else
// runs on the machine.
func threadCPU() (time.Duration, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
