package types

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	errorsmod "cosmossdk.io/errors"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/stretchr/testify/require"
)

// checkErr asserts that err is nil when want is nil, and otherwise that it
// matches want with errors.Is and that its message contains every fragment
// (typically the offending value and the field name).
func checkErr(t *testing.T, err, want error, fragments ...string) {
	t.Helper()
	if want == nil {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	require.True(t, errors.Is(err, want), "error %q is not %q", err, want)
	for _, f := range fragments {
		require.Contains(t, err.Error(), f)
	}
}

func TestErrorCodes(t *testing.T) {
	all := []*errorsmod.Error{
		ErrInvalidRelay, ErrTooManyRelays, ErrInvalidE2EKey, ErrInvalidPubKey, ErrTwinExists, ErrTwinNotFound,
		ErrInvalidFarmName, ErrFarmNameTaken, ErrFarmNotFound, ErrNotFarmer, ErrInvalidPublicIP, ErrInvalidGateway, ErrPublicIPExists,
		ErrPublicIPNotFound, ErrPublicIPInUse, ErrTooManyPublicIPs, ErrNodeTwinNotAllowed,
		ErrNodeNotFound, ErrNodeExists, ErrNotNodeTwin, ErrInvalidCRU, ErrInvalidMRU, ErrInvalidStorage, ErrInvalidInterfaceName,
		ErrInvalidMAC, ErrInvalidInterfaceIP, ErrTooManyInterfaces, ErrInvalidCity, ErrInvalidCountry, ErrInvalidLatitude,
		ErrInvalidLongitude, ErrInvalidSerialNumber, ErrInvalidPublicConfig, ErrInvalidDomain, ErrInvalidTimestampHint,
		ErrNodeHasActiveContracts, ErrInvalidPowerState,
		ErrPricingPolicyNotFound, ErrPricingPolicyNameTaken, ErrInvalidPricingPolicy, ErrFarmingPolicyNotFound,
		ErrFarmingPolicyImmutable, ErrFarmingPolicyExpired, ErrInvalidFarmingPolicy, ErrNoFarmingPolicy,
		ErrInvalidCertification, ErrNotCertifier, ErrInvalidParams, ErrInvalidGenesis, ErrNotEnoughPublicIPs,
	}
	descs := map[string]bool{}
	for i, e := range all {
		require.Equal(t, ModuleName, e.Codespace())
		require.Equal(t, uint32(i+2), e.ABCICode(), "error %q", e)
		require.NotEmpty(t, e.Error())
		require.Equal(t, strings.ToLower(e.Error()), e.Error())
		require.False(t, descs[e.Error()], "duplicate description %q", e)
		descs[e.Error()] = true
	}
}

func TestValidateRelays(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	label64 := strings.Repeat("b", 64)
	// "wss://" (6) + 3×63 + 3 dots + 57 = 255 bytes; one more is 256.
	url255 := "wss://" + label63 + "." + label63 + "." + label63 + "." + strings.Repeat("c", 57)
	url256 := "wss://" + label63 + "." + label63 + "." + label63 + "." + strings.Repeat("c", 58)
	require.Len(t, url255, 255)
	require.Len(t, url256, 256)

	tests := []struct {
		name   string
		relays []string
		want   error
		msg    []string
	}{
		{"nil", nil, nil, nil},
		{"empty list", []string{}, nil, nil},
		{"ws", []string{"ws://relay.grid.tf"}, nil, nil},
		{"wss with port", []string{"wss://relay.grid.tf:443"}, nil, nil},
		{"single label and max port", []string{"ws://localhost:65535"}, nil, nil},
		{"ipv4 host", []string{"wss://185.69.166.1:8080"}, nil, nil},
		{"ipv6 host", []string{"wss://[2001:db8::1]:443"}, nil, nil},
		{"ipv6 host no port", []string{"ws://[::1]"}, nil, nil},
		{"hyphen and digits", []string{"wss://relay-01.dev.grid.tf"}, nil, nil},
		{"uppercase host", []string{"wss://Relay.Grid.TF"}, nil, nil},
		{"label of 63", []string{"wss://" + label63 + ".tf"}, nil, nil},
		{"255 bytes", []string{url255}, nil, nil},
		{"four relays", []string{"wss://a.tf", "wss://b.tf", "wss://c.tf", "wss://d.tf"}, nil, nil},
		{"same host different scheme", []string{"ws://relay.grid.tf", "wss://relay.grid.tf"}, nil, nil},
		{"same host different port", []string{"wss://relay.grid.tf", "wss://relay.grid.tf:8443"}, nil, nil},

		{"five relays", []string{"wss://a.tf", "wss://b.tf", "wss://c.tf", "wss://d.tf", "wss://e.tf"}, ErrTooManyRelays, []string{"5"}},
		{"empty", []string{""}, ErrInvalidRelay, []string{"relays[0]", "empty"}},
		{"https scheme", []string{"https://relay.grid.tf"}, ErrInvalidRelay, []string{"https://relay.grid.tf", "scheme"}},
		{"uppercase scheme", []string{"WSS://relay.grid.tf"}, ErrInvalidRelay, []string{"WSS://relay.grid.tf"}},
		{"no scheme", []string{"relay.grid.tf"}, ErrInvalidRelay, []string{"relay.grid.tf"}},
		{"trailing slash", []string{"wss://relay.grid.tf/"}, ErrInvalidRelay, []string{"wss://relay.grid.tf/", "path"}},
		{"path", []string{"wss://relay.grid.tf/ws"}, ErrInvalidRelay, []string{"wss://relay.grid.tf/ws", "path"}},
		{"path after port", []string{"wss://relay.grid.tf:443/ws"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:443/ws", "path"}},
		{"query", []string{"wss://relay.grid.tf?x=1"}, ErrInvalidRelay, []string{"wss://relay.grid.tf?x=1", "query"}},
		{"fragment", []string{"wss://relay.grid.tf#top"}, ErrInvalidRelay, []string{"wss://relay.grid.tf#top", "fragment"}},
		{"userinfo", []string{"wss://user@relay.grid.tf"}, ErrInvalidRelay, []string{"wss://user@relay.grid.tf", "user info"}},
		{"userinfo with password", []string{"wss://user:pw@relay.grid.tf"}, ErrInvalidRelay, []string{"wss://user:pw@relay.grid.tf", "user info"}},
		{"port 0", []string{"wss://relay.grid.tf:0"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:0", "port"}},
		{"port 65536", []string{"wss://relay.grid.tf:65536"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:65536", "port"}},
		{"port 99999", []string{"wss://relay.grid.tf:99999"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:99999", "port"}},
		{"port too long", []string{"wss://relay.grid.tf:100000"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:100000", "port"}},
		{"port leading zero", []string{"wss://relay.grid.tf:0443"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:0443", "port"}},
		{"port with sign", []string{"wss://relay.grid.tf:+443"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:+443", "port"}},
		{"port not numeric", []string{"wss://relay.grid.tf:https"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:https", "port"}},
		{"empty port", []string{"wss://relay.grid.tf:"}, ErrInvalidRelay, []string{"wss://relay.grid.tf:", "empty port"}},
		{"empty host", []string{"wss://"}, ErrInvalidRelay, []string{`"wss://"`, "empty host"}},
		{"empty host with port", []string{"wss://:443"}, ErrInvalidRelay, []string{"wss://:443", "empty host"}},
		{"empty label", []string{"wss://relay..grid.tf"}, ErrInvalidRelay, []string{"wss://relay..grid.tf", "empty label"}},
		{"leading dot", []string{"wss://.grid.tf"}, ErrInvalidRelay, []string{"wss://.grid.tf", "empty label"}},
		{"trailing dot", []string{"wss://relay.grid.tf."}, ErrInvalidRelay, []string{"wss://relay.grid.tf.", "empty label"}},
		{"label of 64", []string{"wss://" + label64 + ".tf"}, ErrInvalidRelay, []string{label64, "64"}},
		{"label starts with hyphen", []string{"wss://-relay.grid.tf"}, ErrInvalidRelay, []string{"wss://-relay.grid.tf", "'-'"}},
		{"label ends with hyphen", []string{"wss://relay-.grid.tf"}, ErrInvalidRelay, []string{"wss://relay-.grid.tf", "'-'"}},
		{"underscore", []string{"wss://relay_1.grid.tf"}, ErrInvalidRelay, []string{"wss://relay_1.grid.tf", "invalid character"}},
		{"space", []string{"wss://relay grid.tf"}, ErrInvalidRelay, []string{"wss://relay grid.tf"}},
		{"non-ascii", []string{"wss://rélay.grid.tf"}, ErrInvalidRelay, []string{"wss://rélay.grid.tf"}},
		{"256 bytes", []string{url256}, ErrInvalidRelay, []string{url256, "256"}},
		{"bad ipv4", []string{"wss://1.2.3.256"}, ErrInvalidRelay, []string{"wss://1.2.3.256", "all-numeric"}},
		{"ipv4 leading zero", []string{"wss://01.2.3.4"}, ErrInvalidRelay, []string{"wss://01.2.3.4"}},
		{"unbracketed ipv6", []string{"wss://2001:db8::1"}, ErrInvalidRelay, []string{"wss://2001:db8::1", "brackets"}},
		{"unterminated ipv6", []string{"wss://[2001:db8::1"}, ErrInvalidRelay, []string{"wss://[2001:db8::1", "unterminated"}},
		{"bracketed ipv4", []string{"wss://[1.2.3.4]"}, ErrInvalidRelay, []string{"wss://[1.2.3.4]", "ipv6 literal"}},
		{"bracketed garbage", []string{"wss://[relay]"}, ErrInvalidRelay, []string{"wss://[relay]"}},
		{"ipv6 zone", []string{"wss://[fe80::1%25eth0]"}, ErrInvalidRelay, []string{"wss://[fe80::1%25eth0]"}},
		{"junk after ipv6", []string{"wss://[::1]x"}, ErrInvalidRelay, []string{"wss://[::1]x"}},
		{"ipv6 empty port", []string{"wss://[::1]:"}, ErrInvalidRelay, []string{"wss://[::1]:", "empty port"}},
		{"ipv6 port 0", []string{"wss://[::1]:0"}, ErrInvalidRelay, []string{"wss://[::1]:0", "port"}},
		{"second entry bad", []string{"wss://a.tf", "wss://b.tf/x"}, ErrInvalidRelay, []string{"relays[1]", "wss://b.tf/x"}},
		{"duplicate", []string{"wss://relay.grid.tf", "wss://relay.grid.tf"}, ErrInvalidRelay, []string{"relays[1]", "wss://relay.grid.tf", "duplicate of relays[0]"}},
		{"duplicate case-insensitive", []string{"wss://relay.grid.tf", "wss://RELAY.grid.tf"}, ErrInvalidRelay, []string{"wss://RELAY.grid.tf", "duplicate"}},
		{"duplicate ipv6 spelling", []string{"wss://[2001:db8::1]:443", "wss://[2001:DB8:0::1]:443"}, ErrInvalidRelay, []string{"wss://[2001:DB8:0::1]:443", "duplicate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateRelays(tc.relays), tc.want, tc.msg...)
		})
	}
}

func TestValidateE2EKey(t *testing.T) {
	// Valid compressed keys derived from fixed private keys; the seeds cover
	// both parities of y (0x02 and 0x03 prefixes).
	prefixes := map[byte]bool{}
	for seed := byte(1); seed <= 8; seed++ {
		priv := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{seed}, 32))
		key := priv.PubKey().SerializeCompressed()
		require.Len(t, key, 33)
		prefixes[key[0]] = true
		require.NoError(t, ValidateE2EKey(key), "seed %d", seed)
	}
	require.True(t, prefixes[0x02] && prefixes[0x03], "test keys should cover both prefixes")

	valid := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32)).PubKey()
	uncompressed := valid.SerializeUncompressed()
	wrongPrefix := append([]byte{0x04}, valid.SerializeCompressed()[1:]...)
	notOnCurve := make([]byte, 33) // x = 5: 5³+7 = 132 is not a square mod p
	notOnCurve[0], notOnCurve[32] = 0x02, 5
	aboveP := append([]byte{0x03}, bytes.Repeat([]byte{0xff}, 32)...) // x >= field prime

	tests := []struct {
		name string
		key  []byte
		want error
		msg  []string
	}{
		{"nil", nil, nil, nil},
		{"empty", []byte{}, nil, nil},
		{"32 bytes", bytes.Repeat([]byte{0x02}, 32), ErrInvalidE2EKey, []string{strings.Repeat("02", 32), "32 bytes"}},
		{"34 bytes", bytes.Repeat([]byte{0x02}, 34), ErrInvalidE2EKey, []string{strings.Repeat("02", 34), "34 bytes"}},
		{"uncompressed 65 bytes", uncompressed, ErrInvalidE2EKey, []string{hex.EncodeToString(uncompressed), "65 bytes"}},
		{"prefix 0x04", wrongPrefix, ErrInvalidE2EKey, []string{hex.EncodeToString(wrongPrefix), "prefix 0x04"}},
		{"prefix 0x00", make([]byte, 33), ErrInvalidE2EKey, []string{strings.Repeat("00", 33), "prefix 0x00"}},
		{"not on curve", notOnCurve, ErrInvalidE2EKey, []string{"02" + strings.Repeat("00", 31) + "05", "not a point"}},
		{"x above field prime", aboveP, ErrInvalidE2EKey, []string{"03" + strings.Repeat("ff", 32), "not a point"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateE2EKey(tc.key), tc.want, tc.msg...)
		})
	}
}

func TestValidateFarmName(t *testing.T) {
	tests := []struct {
		name string
		want error
		msg  []string
	}{
		{"abc", nil, nil},
		{"Farm_01-Ghent", nil, nil},
		{strings.Repeat("x", 40), nil, nil},
		{"", ErrInvalidFarmName, []string{`name ""`, "length 0"}},
		{"ab", ErrInvalidFarmName, []string{`"ab"`, "length 2"}},
		{strings.Repeat("x", 41), ErrInvalidFarmName, []string{strings.Repeat("x", 41), "length 41"}},
		{"my farm", ErrInvalidFarmName, []string{"my farm", "invalid character"}},
		{"farm.one", ErrInvalidFarmName, []string{"farm.one", "'.'"}},
		{"férme", ErrInvalidFarmName, []string{"férme"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateFarmName(tc.name), tc.want, tc.msg...)
		})
	}
}

func TestParsePublicIP(t *testing.T) {
	tests := []struct {
		name       string
		ip, gw     string
		want       error
		msg        []string
		wantAddr   string
		wantPrefix string
	}{
		{"valid /24", "185.69.166.10/24", "185.69.166.1", nil, nil, "185.69.166.10", "185.69.166.10/24"},
		{"valid /29", "185.69.166.10/29", "185.69.166.9", nil, nil, "185.69.166.10", "185.69.166.10/29"},
		{"valid /31 low", "185.69.166.10/31", "185.69.166.11", nil, nil, "185.69.166.10", "185.69.166.10/31"},
		{"valid /31 high", "185.69.166.11/31", "185.69.166.10", nil, nil, "185.69.166.11", "185.69.166.11/31"},
		{"valid /16", "8.8.4.4/16", "8.8.0.1", nil, nil, "8.8.4.4", "8.8.4.4/16"},

		{"not cidr", "185.69.166.10", "185.69.166.1", ErrInvalidPublicIP, []string{"185.69.166.10", "cidr"}, "", ""},
		{"garbage", "not-an-ip/24", "185.69.166.1", ErrInvalidPublicIP, []string{"not-an-ip/24"}, "", ""},
		{"empty", "", "185.69.166.1", ErrInvalidPublicIP, []string{`ip ""`}, "", ""},
		{"leading zero", "185.069.166.10/24", "185.69.166.1", ErrInvalidPublicIP, []string{"185.069.166.10/24"}, "", ""},
		{"prefix 33", "185.69.166.10/33", "185.69.166.1", ErrInvalidPublicIP, []string{"185.69.166.10/33"}, "", ""},
		{"ipv6", "2a02:1802:5e::10/64", "2a02:1802:5e::1", ErrInvalidPublicIP, []string{"2a02:1802:5e::10/64", "ipv4"}, "", ""},
		{"ipv4-mapped ipv6", "::ffff:185.69.166.10/120", "185.69.166.1", ErrInvalidPublicIP, []string{"::ffff:185.69.166.10/120", "ipv4"}, "", ""},
		{"this network", "0.1.2.3/24", "0.1.2.1", ErrInvalidPublicIP, []string{"0.1.2.3/24", "0.0.0.0/8"}, "", ""},
		{"unspecified", "0.0.0.0/0", "185.69.166.1", ErrInvalidPublicIP, []string{"0.0.0.0/0", "unspecified"}, "", ""},
		{"private 10", "10.0.0.5/24", "10.0.0.1", ErrInvalidPublicIP, []string{"10.0.0.5/24", "private"}, "", ""},
		{"private 172.16", "172.20.1.5/24", "172.20.1.1", ErrInvalidPublicIP, []string{"172.20.1.5/24", "private"}, "", ""},
		{"private 192.168", "192.168.1.5/24", "192.168.1.1", ErrInvalidPublicIP, []string{"192.168.1.5/24", "private"}, "", ""},
		{"cgnat", "100.64.1.5/24", "100.64.1.1", ErrInvalidPublicIP, []string{"100.64.1.5/24", "carrier-grade"}, "", ""},
		{"cgnat top", "100.127.255.5/24", "100.127.255.1", ErrInvalidPublicIP, []string{"100.127.255.5/24", "carrier-grade"}, "", ""},
		{"loopback", "127.0.0.1/8", "127.0.0.2", ErrInvalidPublicIP, []string{"127.0.0.1/8", "loopback"}, "", ""},
		{"link-local", "169.254.1.5/16", "169.254.1.1", ErrInvalidPublicIP, []string{"169.254.1.5/16", "link-local"}, "", ""},
		{"multicast", "224.0.0.5/24", "224.0.0.1", ErrInvalidPublicIP, []string{"224.0.0.5/24", "multicast"}, "", ""},
		{"multicast high", "239.255.255.250/24", "239.255.255.1", ErrInvalidPublicIP, []string{"239.255.255.250/24", "multicast"}, "", ""},
		{"ietf 192.0.0", "192.0.0.10/24", "192.0.0.1", ErrInvalidPublicIP, []string{"192.0.0.10/24", "192.0.0.0/24"}, "", ""},
		{"doc test-net-1", "192.0.2.10/24", "192.0.2.1", ErrInvalidPublicIP, []string{"192.0.2.10/24", "documentation"}, "", ""},
		{"doc test-net-2", "198.51.100.10/24", "198.51.100.1", ErrInvalidPublicIP, []string{"198.51.100.10/24", "documentation"}, "", ""},
		{"doc test-net-3", "203.0.113.10/24", "203.0.113.1", ErrInvalidPublicIP, []string{"203.0.113.10/24", "documentation"}, "", ""},
		{"benchmarking", "198.19.5.10/24", "198.19.5.1", ErrInvalidPublicIP, []string{"198.19.5.10/24", "benchmarking"}, "", ""},
		{"reserved", "240.0.0.10/24", "240.0.0.1", ErrInvalidPublicIP, []string{"240.0.0.10/24", "reserved"}, "", ""},
		{"broadcast 255.255.255.255", "255.255.255.255/32", "185.69.166.1", ErrInvalidPublicIP, []string{"255.255.255.255/32", "broadcast"}, "", ""},
		{"network address", "185.69.166.0/24", "185.69.166.1", ErrInvalidPublicIP, []string{"185.69.166.0/24", "network address"}, "", ""},
		{"broadcast address", "185.69.166.255/24", "185.69.166.1", ErrInvalidPublicIP, []string{"185.69.166.255/24", "broadcast address"}, "", ""},
		{"broadcast address /30", "185.69.166.11/30", "185.69.166.9", ErrInvalidPublicIP, []string{"185.69.166.11/30", "broadcast address"}, "", ""},

		{"gateway empty", "185.69.166.10/24", "", ErrInvalidGateway, []string{`gateway ""`, "185.69.166.10/24"}, "", ""},
		{"gateway garbage", "185.69.166.10/24", "gw", ErrInvalidGateway, []string{`"gw"`}, "", ""},
		{"gateway cidr", "185.69.166.10/24", "185.69.166.1/24", ErrInvalidGateway, []string{"185.69.166.1/24", "plain"}, "", ""},
		{"gateway ipv6", "185.69.166.10/24", "2a02::1", ErrInvalidGateway, []string{"2a02::1"}, "", ""},
		{"gateway equals ip", "185.69.166.10/24", "185.69.166.10", ErrInvalidGateway, []string{`gateway "185.69.166.10"`, "equals"}, "", ""},
		{"gateway outside subnet", "185.69.166.10/24", "185.69.167.1", ErrInvalidGateway, []string{"185.69.167.1", "outside subnet 185.69.166.0/24"}, "", ""},
		{"gateway outside /32", "185.69.166.10/32", "185.69.166.1", ErrInvalidGateway, []string{"185.69.166.1", "outside subnet"}, "", ""},
		{"gateway private", "185.69.166.10/24", "10.0.0.1", ErrInvalidGateway, []string{"10.0.0.1", "private"}, "", ""},
		{"gateway cgnat", "185.69.166.10/24", "100.64.0.1", ErrInvalidGateway, []string{"100.64.0.1", "carrier-grade"}, "", ""},
		{"gateway multicast", "185.69.166.10/24", "224.0.0.1", ErrInvalidGateway, []string{"224.0.0.1", "multicast"}, "", ""},
		{"gateway network address", "185.69.166.10/24", "185.69.166.0", ErrInvalidGateway, []string{"185.69.166.0", "network address"}, "", ""},
		{"gateway broadcast address", "185.69.166.10/24", "185.69.166.255", ErrInvalidGateway, []string{"185.69.166.255", "broadcast address"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, prefix, err := ParsePublicIP(tc.ip, tc.gw)
			checkErr(t, err, tc.want, tc.msg...)
			if tc.want == nil {
				require.Equal(t, tc.wantAddr, addr.String())
				require.Equal(t, tc.wantPrefix, prefix.String())
				require.Equal(t, addr, prefix.Addr())
			}
		})
	}
}

func TestCanonicalIPv4(t *testing.T) {
	tests := []struct {
		in, out string
		want    error
	}{
		{"185.69.166.10", "185.69.166.10", nil},
		{"185.69.166.10/24", "185.69.166.10", nil},
		{"185.69.166.10/32", "185.69.166.10", nil},
		{"10.0.0.1", "10.0.0.1", nil}, // no public check: it is only a lookup key
		{"", "", ErrInvalidPublicIP},
		{"185.69.166", "", ErrInvalidPublicIP},
		{"185.069.166.10", "", ErrInvalidPublicIP},
		{"185.69.166.10/33", "", ErrInvalidPublicIP},
		{"185.69.166.10/", "", ErrInvalidPublicIP},
		{"2a02::1", "", ErrInvalidPublicIP},
		{"2a02::1/64", "", ErrInvalidPublicIP},
		{"::ffff:185.69.166.10", "", ErrInvalidPublicIP},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CanonicalIPv4(tc.in)
			checkErr(t, err, tc.want, `"`+tc.in+`"`)
			require.Equal(t, tc.out, got)
		})
	}
	// The canonical key equals the one ParsePublicIP returns.
	addr, _, err := ParsePublicIP("185.69.166.10/24", "185.69.166.1")
	require.NoError(t, err)
	key, err := CanonicalIPv4("185.69.166.10/24")
	require.NoError(t, err)
	require.Equal(t, addr.String(), key)
}

func TestValidateIPv6Config(t *testing.T) {
	tests := []struct {
		name   string
		ip, gw string
		want   error
		msg    []string
	}{
		{"valid", "2a02:1802:5e:0:1::10/64", "2a02:1802:5e::1", nil, nil},
		{"valid /48", "2a10:b600:1::a/48", "2a10:b600:1:ffff::1", nil, nil},
		{"not cidr", "2a02:1802:5e::10", "2a02:1802:5e::1", ErrInvalidPublicConfig, []string{"ipv6", "2a02:1802:5e::10"}},
		{"empty", "", "2a02:1802:5e::1", ErrInvalidPublicConfig, []string{`ipv6 ""`}},
		{"ipv4", "185.69.166.10/24", "185.69.166.1", ErrInvalidPublicConfig, []string{"185.69.166.10/24"}},
		{"ipv4-mapped", "::ffff:185.69.166.10/120", "::ffff:185.69.166.1", ErrInvalidPublicConfig, []string{"::ffff:185.69.166.10/120"}},
		{"unique local", "fd00::10/64", "fd00::1", ErrInvalidPublicConfig, []string{"fd00::10/64", "global unicast"}},
		{"link-local", "fe80::10/64", "fe80::1", ErrInvalidPublicConfig, []string{"fe80::10/64", "global unicast"}},
		{"loopback", "::1/128", "::2", ErrInvalidPublicConfig, []string{"::1/128"}},
		{"multicast", "ff02::10/64", "ff02::1", ErrInvalidPublicConfig, []string{"ff02::10/64"}},
		{"documentation", "2001:db8::10/64", "2001:db8::1", ErrInvalidPublicConfig, []string{"2001:db8::10/64", "documentation"}},
		{"documentation 3fff", "3fff::10/64", "3fff::1", ErrInvalidPublicConfig, []string{"3fff::10/64", "documentation"}},
		{"benchmarking", "2001:2::10/64", "2001:2::1", ErrInvalidPublicConfig, []string{"2001:2::10/64", "benchmarking"}},
		{"gateway garbage", "2a02:1802:5e::10/64", "gw", ErrInvalidPublicConfig, []string{`gw6 "gw"`}},
		{"gateway cidr", "2a02:1802:5e::10/64", "2a02:1802:5e::1/64", ErrInvalidPublicConfig, []string{"gw6", "2a02:1802:5e::1/64"}},
		{"gateway ipv4", "2a02:1802:5e::10/64", "185.69.166.1", ErrInvalidPublicConfig, []string{"gw6", "185.69.166.1"}},
		{"gateway zone", "2a02:1802:5e::10/64", "2a02:1802:5e::1%eth0", ErrInvalidPublicConfig, []string{"gw6", "2a02:1802:5e::1%eth0"}},
		{"gateway link-local", "2a02:1802:5e::10/64", "fe80::1", ErrInvalidPublicConfig, []string{"gw6", "fe80::1"}},
		{"gateway equals ip", "2a02:1802:5e::10/64", "2a02:1802:5e::10", ErrInvalidPublicConfig, []string{`gw6 "2a02:1802:5e::10"`, "equals"}},
		{"gateway outside subnet", "2a02:1802:5e::10/64", "2a02:1802:5f::1", ErrInvalidPublicConfig, []string{"gw6", "2a02:1802:5f::1", "outside subnet"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateIPv6Config(tc.ip, tc.gw), tc.want, tc.msg...)
		})
	}
}

func TestValidatePublicConfig(t *testing.T) {
	const (
		ip4 = "185.69.166.10/24"
		gw4 = "185.69.166.1"
		ip6 = "2a02:1802:5e::10/64"
		gw6 = "2a02:1802:5e::1"
	)
	label63 := strings.Repeat("a", 63)
	domain253 := label63 + "." + label63 + "." + label63 + "." + strings.Repeat("d", 61)
	domain254 := domain253 + "d"
	require.Len(t, domain253, 253)

	tests := []struct {
		name                         string
		ipv4, gw4, ipv6, gw6, domain string
		want                         error
		msg                          []string
	}{
		{"ipv4 only", ip4, gw4, "", "", "", nil, nil},
		{"full", ip4, gw4, ip6, gw6, "gent01.grid.tf", nil, nil},
		{"single-label domain", ip4, gw4, "", "", "gateway", nil, nil},
		{"domain 253", ip4, gw4, "", "", domain253, nil, nil},

		{"ipv4 missing", "", gw4, "", "", "", ErrInvalidPublicConfig, []string{"ipv4", "required"}},
		{"gw4 missing", ip4, "", "", "", "", ErrInvalidPublicConfig, []string{"gw4", "required"}},
		{"ipv4 private", "10.0.0.5/24", "10.0.0.1", "", "", "", ErrInvalidPublicConfig, []string{`ipv4 "10.0.0.5/24"`, "private"}},
		{"ipv4 not cidr", "185.69.166.10", gw4, "", "", "", ErrInvalidPublicConfig, []string{`ipv4 "185.69.166.10"`}},
		{"gw4 outside subnet", ip4, "185.69.167.1", "", "", "", ErrInvalidPublicConfig, []string{`gw4 "185.69.167.1"`, "outside subnet"}},
		{"gw4 equals ip", ip4, "185.69.166.10", "", "", "", ErrInvalidPublicConfig, []string{`gw4 "185.69.166.10"`, "equals"}},
		{"ipv6 without gw6", ip4, gw4, ip6, "", "", ErrInvalidPublicConfig, []string{"gw6", "required", ip6}},
		{"gw6 without ipv6", ip4, gw4, "", gw6, "", ErrInvalidPublicConfig, []string{"ipv6", "required", gw6}},
		{"ipv6 invalid", ip4, gw4, "fd00::10/64", "fd00::1", "", ErrInvalidPublicConfig, []string{`ipv6 "fd00::10/64"`}},
		{"gw6 invalid", ip4, gw4, ip6, "2a02:1802:5f::1", "", ErrInvalidPublicConfig, []string{`gw6 "2a02:1802:5f::1"`}},
		{"domain empty label", ip4, gw4, "", "", "gw..grid.tf", ErrInvalidDomain, []string{`domain "gw..grid.tf"`, "empty label"}},
		{"domain trailing dot", ip4, gw4, "", "", "gw.grid.tf.", ErrInvalidDomain, []string{"gw.grid.tf."}},
		{"domain hyphen", ip4, gw4, "", "", "-gw.grid.tf", ErrInvalidDomain, []string{"-gw.grid.tf"}},
		{"domain underscore", ip4, gw4, "", "", "gw_1.grid.tf", ErrInvalidDomain, []string{"gw_1.grid.tf"}},
		{"domain wildcard", ip4, gw4, "", "", "*.grid.tf", ErrInvalidDomain, []string{"*.grid.tf"}},
		{"domain with scheme", ip4, gw4, "", "", "https://grid.tf", ErrInvalidDomain, []string{"https://grid.tf"}},
		{"domain ip", ip4, gw4, "", "", "185.69.166.10", ErrInvalidDomain, []string{"185.69.166.10", "all-numeric"}},
		{"domain label 64", ip4, gw4, "", "", strings.Repeat("e", 64) + ".tf", ErrInvalidDomain, []string{strings.Repeat("e", 64)}},
		{"domain 254", ip4, gw4, "", "", domain254, ErrInvalidDomain, []string{domain254, "254"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidatePublicConfig(tc.ipv4, tc.gw4, tc.ipv6, tc.gw6, tc.domain), tc.want, tc.msg...)
		})
	}
}

func TestValidateInterface(t *testing.T) {
	tenIPs := make([]string, 10)
	for i := range tenIPs {
		tenIPs[i] = "185.69.166." + string(rune('0'+i))
	}
	elevenIPs := append(append([]string{}, tenIPs...), "185.69.166.20")

	tests := []struct {
		name  string
		i     int
		iname string
		mac   string
		ips   []string
		want  error
		msg   []string
	}{
		{"valid", 0, "zos", "aa:bb:cc:dd:ee:ff", []string{"185.69.166.10", "2a02:1802:5e::10"}, nil, nil},
		{"uppercase mac", 0, "eth0", "AA:BB:CC:DD:EE:0F", nil, nil, nil},
		{"mixed case mac", 0, "eth0", "aA:bB:cC:dD:eE:fF", nil, nil, nil},
		{"cidr ips", 0, "br-pub", "02:42:ac:11:00:02", []string{"10.0.0.5/24", "fe80::1/64"}, nil, nil},
		{"vlan name", 0, "eth0.100", "02:42:ac:11:00:02", nil, nil, nil},
		{"two chars", 0, "lo", "00:00:00:00:00:00", nil, nil, nil},
		{"15 chars", 0, strings.Repeat("n", 15), "02:42:ac:11:00:02", nil, nil, nil},
		{"ten ips", 0, "zos", "02:42:ac:11:00:02", tenIPs, nil, nil},

		{"name too short", 3, "e", "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{`interfaces[3].name "e"`, "length 1"}},
		{"name empty", 0, "", "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{`name ""`}},
		{"name 16", 0, strings.Repeat("n", 16), "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{strings.Repeat("n", 16), "length 16"}},
		{"name space", 0, "eth 0", "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{"eth 0", "invalid character"}},
		{"name slash", 0, "eth0/1", "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{"eth0/1"}},
		{"name colon", 0, "eth0:1", "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{"eth0:1"}},
		{"name dotdot", 0, "..", "02:42:ac:11:00:02", nil, ErrInvalidInterfaceName, []string{`".."`}},
		{"mac short", 1, "eth0", "aa:bb:cc:dd:ee", nil, ErrInvalidMAC, []string{`interfaces[1].mac "aa:bb:cc:dd:ee"`}},
		{"mac empty", 1, "eth0", "", nil, ErrInvalidMAC, []string{`mac ""`}},
		{"mac dashes", 1, "eth0", "aa-bb-cc-dd-ee-ff", nil, ErrInvalidMAC, []string{"aa-bb-cc-dd-ee-ff", "colon"}},
		{"mac dotted", 1, "eth0", "aabb.ccdd.eeff", nil, ErrInvalidMAC, []string{"aabb.ccdd.eeff"}},
		{"mac non-hex", 1, "eth0", "gg:bb:cc:dd:ee:ff", nil, ErrInvalidMAC, []string{"gg:bb:cc:dd:ee:ff"}},
		{"mac 64-bit", 1, "eth0", "aa:bb:cc:dd:ee:ff:00:11", nil, ErrInvalidMAC, []string{"aa:bb:cc:dd:ee:ff:00:11"}},
		{"mac no separators", 1, "eth0", "aabbccddeeff00112", nil, ErrInvalidMAC, []string{"aabbccddeeff00112"}},
		{"eleven ips", 2, "eth0", "02:42:ac:11:00:02", elevenIPs, ErrInvalidInterfaceIP, []string{"interfaces[2].ips", "11 entries"}},
		{"ip garbage", 2, "eth0", "02:42:ac:11:00:02", []string{"185.69.166.10", "1.2.3"}, ErrInvalidInterfaceIP, []string{`interfaces[2].ips[1] "1.2.3"`}},
		{"ip empty", 2, "eth0", "02:42:ac:11:00:02", []string{""}, ErrInvalidInterfaceIP, []string{`ips[0] ""`}},
		{"ip zone", 2, "eth0", "02:42:ac:11:00:02", []string{"fe80::1%eth0"}, ErrInvalidInterfaceIP, []string{"fe80::1%eth0"}},
		{"ip bad prefix", 2, "eth0", "02:42:ac:11:00:02", []string{"10.0.0.1/33"}, ErrInvalidInterfaceIP, []string{"10.0.0.1/33"}},
		{"ip leading zero", 2, "eth0", "02:42:ac:11:00:02", []string{"10.0.0.01"}, ErrInvalidInterfaceIP, []string{"10.0.0.01"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateInterface(tc.i, tc.iname, tc.mac, tc.ips), tc.want, tc.msg...)
		})
	}
}

func TestValidateInterfaceCount(t *testing.T) {
	require.NoError(t, ValidateInterfaceCount(0))
	require.NoError(t, ValidateInterfaceCount(MaxInterfaces))
	checkErr(t, ValidateInterfaceCount(11), ErrTooManyInterfaces, "11", "10")
	checkErr(t, ValidateInterfaceCount(-1), ErrTooManyInterfaces, "-1")
}

func TestValidateLocation(t *testing.T) {
	type loc struct{ city, country, lat, long string }
	ok := loc{"Ghent", "Belgium", "51.05", "3.71"}
	with := func(f func(*loc)) loc { l := ok; f(&l); return l }

	tests := []struct {
		name string
		l    loc
		want error
		msg  []string
	}{
		{"valid", ok, nil, nil},
		{"unicode", loc{"São Paulo", "Brasil", "-23.5505", "-46.6333"}, nil, nil},
		{"apostrophe first", loc{"'s-Hertogenbosch", "Netherlands", "Unknown", "Unknown"}, nil, nil},
		{"dots and apostrophe", loc{"St. John's", "Antigua and Barbuda", "0", "0.0"}, nil, nil},
		{"cjk", loc{"東京", "日本", "35.6762", "139.6503"}, nil, nil},
		{"combining marks", loc{"नई दिल्ली", "भारत", "28.61", "77.20"}, nil, nil},
		{"decomposed accent", loc{"Zu\u0308rich", "Switzerland", "+47.37", "+8.54"}, nil, nil},
		{"bounds", loc{"X", "Antarctica", "-90", "180"}, nil, nil},
		{"bounds decimals", loc{"X", "Antarctica", "90.000", "-180.0"}, nil, nil},
		{"city 58 runes", with(func(l *loc) { l.city = strings.Repeat("é", 58) }), nil, nil},
		{"country 56 runes", with(func(l *loc) { l.country = strings.Repeat("ü", 56) }), nil, nil},

		{"city empty", with(func(l *loc) { l.city = "" }), ErrInvalidCity, []string{`city ""`}},
		{"city 59 runes", with(func(l *loc) { l.city = strings.Repeat("é", 59) }), ErrInvalidCity, []string{strings.Repeat("é", 59), "59"}},
		{"city digit", with(func(l *loc) { l.city = "Ghent1" }), ErrInvalidCity, []string{"Ghent1", "'1'"}},
		{"city leading space", with(func(l *loc) { l.city = " Ghent" }), ErrInvalidCity, []string{`" Ghent"`, "space"}},
		{"city trailing space", with(func(l *loc) { l.city = "Ghent " }), ErrInvalidCity, []string{`"Ghent "`, "space"}},
		{"city punctuation only", with(func(l *loc) { l.city = "..." }), ErrInvalidCity, []string{`"..."`, "no letter"}},
		{"city leading mark", with(func(l *loc) { l.city = "\u0308a" }), ErrInvalidCity, []string{"city"}},
		{"city tab", with(func(l *loc) { l.city = "Gh\tent" }), ErrInvalidCity, []string{`Gh\tent`}},
		{"city invalid utf8", with(func(l *loc) { l.city = "Gh\xffent" }), ErrInvalidCity, []string{`Gh\xffent`, "utf-8"}},
		{"country 1 char", with(func(l *loc) { l.country = "B" }), ErrInvalidCountry, []string{`country "B"`, "length 1"}},
		{"country 57 runes", with(func(l *loc) { l.country = strings.Repeat("ü", 57) }), ErrInvalidCountry, []string{"57"}},
		{"country symbol", with(func(l *loc) { l.country = "Belgium!" }), ErrInvalidCountry, []string{"Belgium!"}},
		{"latitude 91", with(func(l *loc) { l.lat = "91" }), ErrInvalidLatitude, []string{`latitude "91"`, "out of range"}},
		{"latitude -90.0001", with(func(l *loc) { l.lat = "-90.0001" }), ErrInvalidLatitude, []string{"-90.0001", "out of range"}},
		{"latitude exponent", with(func(l *loc) { l.lat = "1e2" }), ErrInvalidLatitude, []string{`"1e2"`}},
		{"latitude small exponent", with(func(l *loc) { l.lat = "1e-2" }), ErrInvalidLatitude, []string{`"1e-2"`}},
		{"latitude NaN", with(func(l *loc) { l.lat = "NaN" }), ErrInvalidLatitude, []string{`"NaN"`}},
		{"latitude Inf", with(func(l *loc) { l.lat = "Inf" }), ErrInvalidLatitude, []string{`"Inf"`}},
		{"latitude -Inf", with(func(l *loc) { l.lat = "-Inf" }), ErrInvalidLatitude, []string{`"-Inf"`}},
		{"latitude hex", with(func(l *loc) { l.lat = "0x1p-2" }), ErrInvalidLatitude, []string{`"0x1p-2"`}},
		{"latitude lowercase unknown", with(func(l *loc) { l.lat = "unknown" }), ErrInvalidLatitude, []string{`"unknown"`}},
		{"latitude empty", with(func(l *loc) { l.lat = "" }), ErrInvalidLatitude, []string{`latitude ""`}},
		{"latitude trailing dot", with(func(l *loc) { l.lat = "1." }), ErrInvalidLatitude, []string{`"1."`}},
		{"latitude leading dot", with(func(l *loc) { l.lat = ".5" }), ErrInvalidLatitude, []string{`".5"`}},
		{"latitude double sign", with(func(l *loc) { l.lat = "--1" }), ErrInvalidLatitude, []string{`"--1"`}},
		{"latitude comma", with(func(l *loc) { l.lat = "1,5" }), ErrInvalidLatitude, []string{`"1,5"`}},
		{"latitude spaces", with(func(l *loc) { l.lat = " 1" }), ErrInvalidLatitude, []string{`" 1"`}},
		{"latitude underscore", with(func(l *loc) { l.lat = "1_0" }), ErrInvalidLatitude, []string{`"1_0"`}},
		{"latitude too long", with(func(l *loc) { l.lat = "1." + strings.Repeat("0", 49) }), ErrInvalidLatitude, []string{"51 characters"}},
		{"longitude 180.5", with(func(l *loc) { l.long = "180.5" }), ErrInvalidLongitude, []string{`longitude "180.5"`, "out of range"}},
		{"longitude -181", with(func(l *loc) { l.long = "-181" }), ErrInvalidLongitude, []string{`"-181"`}},
		{"longitude text", with(func(l *loc) { l.long = "east" }), ErrInvalidLongitude, []string{`"east"`}},
		{"longitude NaN", with(func(l *loc) { l.long = "NaN" }), ErrInvalidLongitude, []string{`"NaN"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateLocation(tc.l.city, tc.l.country, tc.l.lat, tc.l.long), tc.want, tc.msg...)
		})
	}
}

func TestValidateSerialNumber(t *testing.T) {
	tests := []struct {
		s    string
		want error
		msg  []string
	}{
		{"", nil, nil},
		{"Default string", nil, nil},
		{"SN-1234/ABC_x~!@#$%^&*()", nil, nil},
		{strings.Repeat("s", 128), nil, nil},
		{strings.Repeat("s", 129), ErrInvalidSerialNumber, []string{strings.Repeat("s", 129), "129 bytes"}},
		{"abc\x00", ErrInvalidSerialNumber, []string{`"abc\x00"`, "0x00"}},
		{"abc\n", ErrInvalidSerialNumber, []string{`"abc\n"`}},
		{"abc\x7f", ErrInvalidSerialNumber, []string{`"abc\x7f"`}},
		{"sérial", ErrInvalidSerialNumber, []string{"sérial", "non-ascii"}},
	}
	for _, tc := range tests {
		t.Run(tc.s, func(t *testing.T) {
			checkErr(t, ValidateSerialNumber(tc.s), tc.want, tc.msg...)
		})
	}
}

func TestValidateNodeResources(t *testing.T) {
	tests := []struct {
		name               string
		cru, sru, hru, mru uint64
		want               error
		msg                []string
	}{
		{"ssd node", 1, 100 * GiB, 0, 2 * GiB, nil, nil},
		{"hdd only node", 1, 0, 100 * GiB, 2 * GiB, nil, nil},
		{"big node", 64, 4000 * GiB, 20000 * GiB, 512 * GiB, nil, nil},
		{"max values", math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64, nil, nil},
		{"cru 0", 0, 100 * GiB, 0, 2 * GiB, ErrInvalidCRU, []string{"cru 0"}},
		{"mru just below 2 GiB", 1, 100 * GiB, 0, 2*GiB - 1, ErrInvalidMRU, []string{"mru 2147483647"}},
		{"mru 0", 1, 100 * GiB, 0, 0, ErrInvalidMRU, []string{"mru 0"}},
		{"no storage", 1, 100*GiB - 1, 100*GiB - 1, 2 * GiB, ErrInvalidStorage, []string{"sru 107374182399", "hru 107374182399"}},
		{"zero storage", 1, 0, 0, 2 * GiB, ErrInvalidStorage, []string{"sru 0", "hru 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ValidateNodeResources(tc.cru, tc.sru, tc.hru, tc.mru), tc.want, tc.msg...)
		})
	}
}

func TestValidatePolicyNames(t *testing.T) {
	fns := []struct {
		name string
		fn   func(string) error
		err  error
	}{
		{"pricing", ValidatePricingPolicyName, ErrInvalidPricingPolicy},
		{"farming", ValidateFarmingPolicyName, ErrInvalidFarmingPolicy},
	}
	tests := []struct {
		in    string
		valid bool
		msg   []string
	}{
		{"abc", true, nil},
		{"threefold_default_pricing_policy", true, nil},
		{"diy-2024_v2", true, nil},
		{strings.Repeat("p", 64), true, nil},
		{"", false, []string{`name ""`}},
		{"ab", false, []string{`"ab"`, "length 2"}},
		{strings.Repeat("p", 65), false, []string{strings.Repeat("p", 65), "length 65"}},
		{"my policy", false, []string{"my policy", "' '"}},
		{"naïve", false, []string{"naïve"}},
	}
	for _, f := range fns {
		for _, tc := range tests {
			t.Run(f.name+"/"+tc.in, func(t *testing.T) {
				var want error
				if !tc.valid {
					want = f.err
				}
				checkErr(t, f.fn(tc.in), want, tc.msg...)
			})
		}
	}
	// The two errors are distinct.
	require.False(t, errors.Is(ValidatePricingPolicyName("x"), ErrInvalidFarmingPolicy))
	require.False(t, errors.Is(ValidateFarmingPolicyName("x"), ErrInvalidPricingPolicy))
}

func TestValidatePercent(t *testing.T) {
	require.NoError(t, ValidatePercent("discount", 0))
	require.NoError(t, ValidatePercent("discount", 100))
	checkErr(t, ValidatePercent("discount_for_dedicated_nodes", 101), ErrInvalidPricingPolicy, "discount_for_dedicated_nodes", "101")
	checkErr(t, ValidatePercent("x", math.MaxUint32), ErrInvalidPricingPolicy, "4294967295")
}

func TestCheckTimestampHint(t *testing.T) {
	tests := []struct {
		name            string
		hint, blockTime int64
		drift           uint64
		want            error
		msg             []string
	}{
		{"equal", 1700000000, 1700000000, 0, nil, nil},
		{"ahead within", 1700000060, 1700000000, 60, nil, nil},
		{"behind within", 1699999940, 1700000000, 60, nil, nil},
		{"ahead too far", 1700000061, 1700000000, 60, ErrInvalidTimestampHint, []string{"1700000061", "1700000000", "by 61"}},
		{"behind too far", 1699999939, 1700000000, 60, ErrInvalidTimestampHint, []string{"1699999939", "1700000000", "by 61"}},
		{"zero hint", 0, 1700000000, 60, ErrInvalidTimestampHint, []string{"hint 0", "1700000000"}},
		{"negative hint", -5, 1700000000, 60, ErrInvalidTimestampHint, []string{"hint -5"}},
		{"extreme span max drift", math.MaxInt64, math.MinInt64, math.MaxUint64, nil, nil},
		{"extreme span reversed", math.MinInt64, math.MaxInt64, math.MaxUint64, nil, nil},
		{"extreme span", math.MaxInt64, math.MinInt64, math.MaxUint64 - 1, ErrInvalidTimestampHint,
			[]string{"9223372036854775807", "-9223372036854775808", "by 18446744073709551615"}},
		{"extreme span reversed too far", math.MinInt64, math.MaxInt64, 60, ErrInvalidTimestampHint,
			[]string{"-9223372036854775808", "9223372036854775807"}},
		{"max both", math.MaxInt64, math.MaxInt64, 0, nil, nil},
		{"min both", math.MinInt64, math.MinInt64, 0, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, CheckTimestampHint(tc.hint, tc.blockTime, tc.drift), tc.want, tc.msg...)
		})
	}
}

// refCU computes floor(min(2·cru, (mru/GiB − 1)/4, sru/GiB/50)) with exact rationals.
func refCU(cru, mru, sru uint64) uint64 {
	gib := new(big.Rat).SetUint64(GiB)
	cpu := new(big.Rat).SetInt(new(big.Int).Mul(new(big.Int).SetUint64(cru), big.NewInt(2)))
	mem := new(big.Rat).Quo(new(big.Rat).SetUint64(mru), gib)
	mem.Sub(mem, big.NewRat(1, 1))
	mem.Quo(mem, big.NewRat(4, 1))
	ssd := new(big.Rat).Quo(new(big.Rat).SetUint64(sru), gib)
	ssd.Quo(ssd, big.NewRat(50, 1))
	m := cpu
	for _, v := range []*big.Rat{mem, ssd} {
		if v.Cmp(m) < 0 {
			m = v
		}
	}
	if m.Sign() <= 0 {
		return 0
	}
	q := new(big.Int).Quo(m.Num(), m.Denom())
	return q.Uint64()
}

// refSU computes floor(hru/GiB/1200 + sru/GiB/250) with exact rationals.
func refSU(hru, sru uint64) uint64 {
	h := new(big.Rat).SetFrac(new(big.Int).SetUint64(hru), new(big.Int).Mul(new(big.Int).SetUint64(GiB), big.NewInt(1200)))
	s := new(big.Rat).SetFrac(new(big.Int).SetUint64(sru), new(big.Int).Mul(new(big.Int).SetUint64(GiB), big.NewInt(250)))
	sum := new(big.Rat).Add(h, s)
	q := new(big.Int).Quo(sum.Num(), sum.Denom())
	return q.Uint64()
}

func TestNodeCU(t *testing.T) {
	tests := []struct {
		name          string
		cru, mru, sru uint64
		want          uint64
	}{
		{"zero", 0, 0, 0, 0},
		{"memory bound", 4, 16 * GiB, 500 * GiB, 3},    // min(8, 3.75, 10)
		{"cpu bound", 1, 64 * GiB, 1000 * GiB, 2},      // min(2, 15.75, 20)
		{"ssd bound", 32, 256 * GiB, 100 * GiB, 2},     // min(64, 63.75, 2)
		{"mru below 1 GiB", 8, GiB - 1, 1000 * GiB, 0}, // negative memory term
		{"mru exactly 1 GiB", 8, GiB, 1000 * GiB, 0},   // (1-1)/4 = 0
		{"mru 5 GiB", 8, 5 * GiB, 1000 * GiB, 1},       // (5-1)/4 = 1
		{"mru just below 5 GiB", 8, 5*GiB - 1, 1000 * GiB, 0},
		{"sru just below 50 GiB", 8, 64 * GiB, 50*GiB - 1, 0},
		{"ties", 2, 17 * GiB, 200 * GiB, 4}, // min(4, 4, 4): no tie quirk
		{"cpu overflow", math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64 / (50 * GiB)},
		{"cpu overflow is min", math.MaxUint64/2 + 1, math.MaxUint64, math.MaxUint64, math.MaxUint64 / (50 * GiB)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, NodeCU(tc.cru, tc.mru, tc.sru))
			require.Equal(t, refCU(tc.cru, tc.mru, tc.sru), NodeCU(tc.cru, tc.mru, tc.sru))
		})
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		cru, mru, sru := r.Uint64N(256), r.Uint64N(2048*GiB), r.Uint64N(20000*GiB)
		if r.IntN(10) == 0 {
			cru, mru, sru = r.Uint64(), r.Uint64(), r.Uint64()
		}
		require.Equal(t, refCU(cru, mru, sru), NodeCU(cru, mru, sru), "cru=%d mru=%d sru=%d", cru, mru, sru)
	}
}

func TestNodeSU(t *testing.T) {
	tests := []struct {
		name     string
		hru, sru uint64
		want     uint64
	}{
		{"zero", 0, 0, 0},
		{"one from hdd", 1200 * GiB, 0, 1},
		{"one from ssd", 0, 250 * GiB, 1},
		{"halves add up", 600 * GiB, 125 * GiB, 1},
		{"halves just short", 600*GiB - 1, 125 * GiB, 0},
		{"just below hdd", 1200*GiB - 1, 0, 0},
		{"just below ssd", 0, 250*GiB - 1, 0},
		{"typical", 12000 * GiB, 1000 * GiB, 14}, // 10 + 4
		{"fractions", 1800 * GiB, 375 * GiB, 3},  // 1.5 + 1.5
		{"max", math.MaxUint64, math.MaxUint64, refSU(math.MaxUint64, math.MaxUint64)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, NodeSU(tc.hru, tc.sru))
			require.Equal(t, refSU(tc.hru, tc.sru), NodeSU(tc.hru, tc.sru))
		})
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		hru, sru := r.Uint64N(100000*GiB), r.Uint64N(20000*GiB)
		if r.IntN(10) == 0 {
			hru, sru = r.Uint64(), r.Uint64()
		}
		require.Equal(t, refSU(hru, sru), NodeSU(hru, sru), "hru=%d sru=%d", hru, sru)
	}
}
