package backendtest

import (
	"net/netip"
	"testing"
)

// The "internet" side of a Farm: TEST-NET-2, routed by the farm's router.
var (
	farmRouterWAN = netip.MustParsePrefix("198.51.100.1/24")
	internetAddr  = netip.MustParsePrefix("198.51.100.2/24")
)

// FarmUplinkInterface is the node's dedicated public interface in a Farm's uplink namespace.
const FarmUplinkInterface = "uplink0"

// Farm is a farm's public network built in namespaces of one test: a router holding the farm's
// gateway, the node's uplink namespace with the node's public interface (no address; the agent puts
// it into its public bridge), and a namespace behind the router standing in for the internet.
type Farm struct {
	Uplink, Router, Internet string // namespace paths
	Gateway                  netip.Prefix
	InternetAddr             netip.Addr // the internet namespace's own address
}

// NewFarm builds a Farm whose router holds gateway (the farm's gateway address and its subnet).
// Everything goes with the test's namespaces at cleanup.
func NewFarm(t *testing.T, gateway netip.Prefix) *Farm {
	t.Helper()
	RequireRoot(t)
	f := &Farm{Uplink: NetNS(t, "uplink"), Router: NetNS(t, "router"), Internet: NetNS(t, "inet"), Gateway: gateway,
		InternetAddr: internetAddr.Addr()}
	Veth(t, f.Router, "farm0", gateway, f.Uplink, FarmUplinkInterface, netip.Prefix{})
	Veth(t, f.Router, "wan0", farmRouterWAN, f.Internet, "wan0", internetAddr)
	Forwarding(t, f.Router)
	Route(t, f.Internet, "wan0", gateway.Masked(), farmRouterWAN.Addr())
	return f
}

// AgentArgs are the zos-agent flags that give a node this farm's public network.
func (f *Farm) AgentArgs() []string {
	return []string{"--uplink-netns", f.Uplink, "--public-interface", FarmUplinkInterface, "--public-gateway", f.Gateway.Addr().String()}
}
