package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

// A Bucket groups the CPU samples of a node profile whose stack holds a frame
// matching one of Frames (substrings). Buckets are tried in order; a sample
// goes to the first that matches, so the narrow ones come first.
type Bucket struct {
	Name   string
	Frames []string
}

// ComponentBuckets say which code the node's CPU time goes to.
var ComponentBuckets = []Bucket{
	{"x/tfgrid keeper (msg handlers)", []string{"/x/tfgrid/keeper."}},
	{"bank MsgSend handler", []string{"x/bank/keeper.msgServer.Send"}},
	{"ante: signature verification", []string{"ante.SigVerificationDecorator"}},
	{"ante: other decorators", []string{"/x/auth/ante.", "Decorator.AnteHandle"}},
	{"tx decoding", []string{"DefaultTxDecoder", "(*BaseApp).TxDecode"}},
	{"block commit (IAVL, DB)", []string{"(*BaseApp).Commit"}},
	{"FinalizeBlock, other (blockers, events, results)", []string{"FinalizeBlock"}},
	{"CheckTx, other", []string{"CheckTx"}},
	{"gRPC server (broadcast handling)", []string{"google.golang.org/grpc."}},
	{"CometBFT RPC (block/status queries)", []string{"cometbft/rpc/"}},
	{"CometBFT consensus, mempool, stores", []string{"github.com/cometbft/cometbft/"}},
	{"Go runtime (GC, scheduler)", []string{"runtime."}},
}

// StageBuckets say in which ABCI stage the node's CPU time is spent.
var StageBuckets = []Bucket{
	{"CheckTx (mempool admission)", []string{"CheckTx"}},
	{"FinalizeBlock (execution)", []string{"FinalizeBlock"}},
	{"Commit", []string{"(*BaseApp).Commit"}},
}

// Share is the CPU time of one bucket.
type Share struct {
	Name string
	Time time.Duration
}

// ProfileBuckets reads the output of `go tool pprof -traces BINARY PROFILE`
// and returns the total sampled CPU time and its split over buckets (plus
// "other", last).
func ProfileBuckets(r io.Reader, buckets []Bucket) (time.Duration, []Share, error) {
	shares := make([]Share, len(buckets)+1)
	for i, b := range buckets {
		shares[i].Name = b.Name
	}
	shares[len(buckets)].Name = "other"

	var (
		total time.Duration
		value time.Duration
		stack []string
		inTr  bool
	)
	flush := func() {
		if !inTr {
			return
		}
		total += value
		shares[classify(stack, buckets)].Time += value
		stack, value, inTr = stack[:0], 0, false
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "-----------+") {
			flush()
			inTr = true
			continue
		}
		if !inTr {
			continue // header
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if value == 0 && len(stack) == 0 {
			// First line of a trace: "<value> <innermost frame>".
			d, err := parsePprofDuration(fields[0])
			if err != nil {
				return 0, nil, fmt.Errorf("trace value %q: %w", fields[0], err)
			}
			value = d
			if len(fields) > 1 {
				stack = append(stack, fields[1])
			}
			continue
		}
		stack = append(stack, fields[0])
	}
	flush()
	return total, shares, sc.Err()
}

func classify(stack []string, buckets []Bucket) int {
	for i, b := range buckets {
		for _, frame := range stack {
			for _, f := range b.Frames {
				if strings.Contains(frame, f) {
					return i
				}
			}
		}
	}
	return len(buckets)
}

var pprofUnit = regexp.MustCompile(`^([0-9.]+)(ns|us|µs|ms|s|mins|hrs)$`)

func parsePprofDuration(s string) (time.Duration, error) {
	m := pprofUnit.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("not a pprof duration")
	}
	switch m[2] {
	case "mins":
		s = m[1] + "m"
	case "hrs":
		s = m[1] + "h"
	}
	return time.ParseDuration(s)
}

// FormatShares renders shares as a table of seconds and percentages.
func FormatShares(title string, total time.Duration, shares []Share) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tCPU s\tshare\t\n", title)
	for _, s := range shares {
		if s.Time == 0 {
			continue
		}
		pct := 0.0
		if total > 0 {
			pct = 100 * s.Time.Seconds() / total.Seconds()
		}
		fmt.Fprintf(tw, "  %s\t%.2f\t%5.1f%%\t\n", s.Name, s.Time.Seconds(), pct)
	}
	fmt.Fprintf(tw, "  total sampled\t%.2f\t\t\n", total.Seconds())
	_ = tw.Flush()
	return b.String()
}
