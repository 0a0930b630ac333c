package types

import (
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Countries in the node finder. A node's location.country is free text (a place name, see
// ValidateLocation): nodes store an English name ("Belgium") or an ISO 3166-1 alpha-2 code ("BE").
// The finder compares countries by code when it can tell one, so `--country BE` finds both kinds,
// and falls back to comparing the text, ignoring case. The code ↔ name table is CLDR's, through
// golang.org/x/text.

// countryByName maps the lower-case English name of every country to its canonical code.
var countryByName = buildCountryNames()

func buildCountryNames() map[string]string {
	names := display.English.Regions()
	out := make(map[string]string, 300)
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			r, ok := countryRegion(string([]rune{a, b}))
			if name := names.Name(r); ok && name != "" {
				out[strings.ToLower(name)] = r.String()
			}
		}
	}
	return out
}

// countryRegion is the canonical region of a two-letter country code, any case ("uk" → GB); false
// when s is not one.
func countryRegion(s string) (language.Region, bool) {
	if len(s) != 2 {
		return language.Region{}, false
	}
	r, err := language.ParseRegion(s)
	if err != nil {
		return language.Region{}, false
	}
	r = r.Canonicalize()
	return r, r.IsCountry()
}

// countryCodeOf is the canonical code of a two-letter country code, or "" when s is not one.
func countryCodeOf(s string) string {
	if r, ok := countryRegion(s); ok {
		return r.String()
	}
	return ""
}

// CountryCode is the canonical ISO 3166-1 alpha-2 code of a country given by code or by English
// name, ignoring case; "" when s is neither.
func CountryCode(s string) string {
	if code := countryCodeOf(s); code != "" {
		return code
	}
	return countryByName[strings.ToLower(s)]
}

// ValidateCountryFilter refuses a two-letter country filter that is not a country code: it can only
// be a typo, which would otherwise silently match no node.
func ValidateCountryFilter(wanted string) error {
	if len(wanted) == 2 && countryCodeOf(wanted) == "" {
		return ErrInvalidQuery.Wrapf("country %q: not an ISO 3166-1 alpha-2 country code", wanted)
	}
	return nil
}

// SameCountry reports whether a node's stored country is the wanted one: the same country code when
// either names a known country, else the same text ignoring case.
func SameCountry(stored, wanted string) bool {
	a, b := CountryCode(stored), CountryCode(wanted)
	if a != "" || b != "" {
		return a == b
	}
	return strings.EqualFold(stored, wanted)
}
