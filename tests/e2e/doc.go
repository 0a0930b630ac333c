// Package e2e holds the end-to-end tests of tfgrid: they run the real tfgridd binary as a
// single-validator chain in a temporary directory, on free loopback ports, and drive it through
// its CLI, gRPC and REST interfaces exactly as a user would.
//
// The binary is $TFGRIDD_BIN when set (`make test` sets it to build/tfgridd), else it is built once
// for the whole package. `go test -short` skips these tests.
//
//	make build && TFGRIDD_BIN=$PWD/build/tfgridd go test ./tests/e2e/ -count=1 -v
package e2e
