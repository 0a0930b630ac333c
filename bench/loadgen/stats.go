package loadgen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// BlockObs is what the walker saw of one block.
type BlockObs struct {
	Height int64
	Time   time.Time // header time (BFT time: median precommit time of the parent)
	Seen   time.Time // wall clock when the load generator first saw it committed (abci_info height)
	NumTxs int       // all txs in the block
	Ours   int       // txs of the phase
	OK     int       // txs of the phase with code 0
	Failed int       // txs of the phase with a non-zero code
	GasOK  int64     // gas used by the phase's successful txs
}

// Rates summarizes the committed txs of a phase.
type Rates struct {
	OK          int   `json:"ok"`
	Failed      int   `json:"failed"`
	Blocks      int   `json:"blocks"`        // blocks holding at least one tx of the phase
	MaxPerBlock int   `json:"max_per_block"` // most txs of the phase in one block
	FirstHeight int64 `json:"first_height"`  // first block with a tx of the phase
	LastHeight  int64 `json:"last_height"`   // last block with a tx of the phase
	// Wall is first broadcast → the moment the last block with a tx of the
	// phase was seen committed; TPS = OK / Wall.
	Wall time.Duration `json:"wall"`
	TPS  float64       `json:"tps"`
	// BlockSpan is the same interval measured by block header times:
	// Time(LastHeight+1) − Time(FirstHeight), i.e. from the commit of the
	// block before the first one to the commit of the last one (a header
	// time is the median precommit time of its parent). It is zero when
	// block LastHeight+1 was not observed. BlockTPS = OK / BlockSpan.
	BlockSpan time.Duration `json:"block_span"`
	BlockTPS  float64       `json:"block_tps"`
	GasPerTx  float64       `json:"gas_per_tx"` // mean gas used by a successful tx
}

// Summarize computes the rates of a phase from the blocks the walker saw
// (in any order, including blocks without txs of the phase); start is the
// wall-clock time of the first broadcast.
func Summarize(start time.Time, blocks []BlockObs) Rates {
	var r Rates
	byHeight := make(map[int64]BlockObs, len(blocks))
	var lastSeen time.Time
	var gas int64
	for _, b := range blocks {
		byHeight[b.Height] = b
		if b.Ours == 0 {
			continue
		}
		r.OK += b.OK
		r.Failed += b.Failed
		gas += b.GasOK
		r.Blocks++
		r.MaxPerBlock = max(r.MaxPerBlock, b.Ours)
		if r.FirstHeight == 0 || b.Height < r.FirstHeight {
			r.FirstHeight = b.Height
		}
		if b.Height > r.LastHeight {
			r.LastHeight = b.Height
			lastSeen = b.Seen
		}
	}
	if r.Blocks == 0 {
		return r
	}
	r.Wall = lastSeen.Sub(start)
	r.TPS = perSecond(r.OK, r.Wall)
	first, okFirst := byHeight[r.FirstHeight]
	after, okAfter := byHeight[r.LastHeight+1]
	if okFirst && okAfter {
		r.BlockSpan = after.Time.Sub(first.Time)
		r.BlockTPS = perSecond(r.OK, r.BlockSpan)
	}
	if r.OK > 0 {
		r.GasPerTx = float64(gas) / float64(r.OK)
	}
	return r
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat. It
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// ParseProcStatCPU returns utime+stime of a /proc/<pid>/stat line.
func ParseProcStatCPU(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("malformed stat line %q", stat)
	}
	fields := strings.Fields(stat[end+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat line has %d fields after the command, want at least 13", len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time %q: %w", f, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// ProcessCPU returns the CPU time (user + system) used so far by process pid
// ("self" for this process).
func ProcessCPU(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	return ParseProcStatCPU(string(b))
}

// ParseProcStatBusy returns the busy CPU time of all CPUs (everything but
// idle and iowait) from the "cpu" line of /proc/stat.
func ParseProcStatBusy(stat string) (time.Duration, error) {
	for _, line := range strings.Split(stat, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 || fields[0] != "cpu" {
			continue
		}
		var busy int64
		for i, f := range fields[1:] {
			if i >= 8 { // guest and guest_nice are already in user and nice
				break
			}
			v, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/stat field %q: %w", f, err)
			}
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			busy += v
		}
		return time.Duration(busy) * time.Second / clockTicks, nil
	}
	return 0, fmt.Errorf("no cpu line in /proc/stat")
}

// SystemBusy returns the busy CPU time of the whole machine so far.
func SystemBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return ParseProcStatBusy(string(b))
}
