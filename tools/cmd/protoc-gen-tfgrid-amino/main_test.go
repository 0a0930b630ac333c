package main

import "testing"

// tsFieldName must be ts-proto's name of a field, or the converters do not compile (tsc checks them).
func TestTSFieldName(t *testing.T) {
	for proto, want := range map[string]string{
		"creator":           "creator",
		"e2e_key":           "e2eKey",
		"public_ips_count":  "publicIpsCount",
		"max_utft_per_hour": "maxUtftPerHour",
		"ipv4":              "ipv4",
		"UPPER_CASE":        "upperCase",
		"mixedCase_field":   "mixedCaseField",
	} {
		if got := tsFieldName(proto); got != want {
			t.Errorf("tsFieldName(%q) = %q, want %q", proto, got, want)
		}
	}
}
