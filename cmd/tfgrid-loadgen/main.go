// Command tfgrid-loadgen is the load generator of `make bench-chain`; see
// bench/loadgen and docs/benchmarks.md.
package main

import (
	"os"

	"github.com/tfgrid/tfgrid/bench/loadgen"
)

func main() {
	os.Exit(loadgen.Main(os.Args[1:], os.Stdout, os.Stderr))
}
