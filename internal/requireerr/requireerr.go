// Package requireerr is the error assertion the tests of every module share: a leaf package, so that
// the types tests use it without linking the keepers internal/keepertest builds on.
package requireerr

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// Is asserts errors.Is(err, want) and that the message mentions every fragment.
func Is(t testing.TB, err, want error, fragments ...string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, errors.Is(err, want), "error %q is not %q", err, want)
	for _, frag := range fragments {
		require.Contains(t, err.Error(), frag)
	}
}
