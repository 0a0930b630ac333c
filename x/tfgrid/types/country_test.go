package types

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountryCode(t *testing.T) {
	for in, want := range map[string]string{
		"BE": "BE", "be": "BE", "Be": "BE", "Belgium": "BE", "BELGIUM": "BE", "belgium": "BE",
		"US": "US", "United States": "US", "EG": "EG", "Egypt": "EG",
		"UK": "GB", "United Kingdom": "GB", // a reserved code resolves to the ISO one
		"EU": "", "ZZ": "", "QO": "", "AA": "", // groupings, unknown and private-use codes are no country
		"Czechia": "CZ", "Czech Republic": "", // CLDR names it Czechia: the other name matches only as text
		"Atlantis": "", "": "", "BEL": "", "B": "",
	} {
		require.Equal(t, want, CountryCode(in), "CountryCode(%q)", in)
	}
}

func TestSameCountry(t *testing.T) {
	tests := []struct {
		stored, wanted string
		same           bool
	}{
		{"Belgium", "BE", true},
		{"Belgium", "be", true},
		{"belgium", "Belgium", true},
		{"BE", "BE", true},
		{"be", "Belgium", true},
		{"BE", "belgium", true},
		{"United Kingdom", "UK", true},
		{"GB", "uk", true},
		{"Belgium", "NL", false},
		{"Netherlands", "BE", false},
		{"NL", "Belgium", false},
		// Text that names no known country compares as text, ignoring case.
		{"Flanders", "flanders", true},
		{"Flanders", "BE", false},
		{"Flanders", "Belgium", false},
		{"Wallonia", "Flanders", false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.same, SameCountry(tc.stored, tc.wanted), "SameCountry(%q, %q)", tc.stored, tc.wanted)
	}
}

func TestValidateCountryFilter(t *testing.T) {
	for _, ok := range []string{"", "BE", "be", "uk", "Belgium", "Atlantis", "BEL"} {
		require.NoError(t, ValidateCountryFilter(ok), "%q", ok)
	}
	for _, bad := range []string{"ZZ", "EU", "QO", "xx", "B1"} {
		err := ValidateCountryFilter(bad)
		require.ErrorIs(t, err, ErrInvalidQuery, "%q", bad)
		require.ErrorContains(t, err, `country "`+bad+`": not an ISO 3166-1 alpha-2 country code`)
	}
}
