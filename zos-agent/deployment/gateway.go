package deployment

import (
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// GatewayNameProxy serves <name>.<node's domain> from backends (type "gateway-name-proxy").
// The name must be held by a name contract of the same twin.
type GatewayNameProxy struct {
	Name           string   `json:"name"`
	TLSPassthrough bool     `json:"tls_passthrough"`
	Backends       []string `json:"backends"`
	// Network optionally names a network workload the backends are reached through.
	Network string `json:"network"`
}

// GatewayFQDNProxy serves the user's own domain name from backends (type "gateway-fqdn-proxy").
type GatewayFQDNProxy struct {
	FQDN           string   `json:"fqdn"`
	TLSPassthrough bool     `json:"tls_passthrough"`
	Backends       []string `json:"backends"`
	Network        string   `json:"network"`
}

var (
	gatewayNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,63}$`)
	dnsLabelPattern    = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
)

func (g *GatewayNameProxy) validate(name string) error {
	if !gatewayNamePattern.MatchString(g.Name) {
		return workloadErr(name, "name", g.Name, ErrInvalidValue, "is not a gateway name (1 to 63 of a-z, A-Z, 0-9, _, -)")
	}
	return validateProxy(name, g.TLSPassthrough, g.Backends, g.Network)
}

// capacity: gateways take nothing the contract reserves (their traffic is billed as NRU).
func (g *GatewayNameProxy) capacity() Capacity { return Capacity{} }

func (g *GatewayFQDNProxy) validate(name string) error {
	if !isFQDN(g.FQDN) {
		return workloadErr(name, "fqdn", g.FQDN, ErrInvalidValue, "is not a fully qualified domain name")
	}
	return validateProxy(name, g.TLSPassthrough, g.Backends, g.Network)
}

func (g *GatewayFQDNProxy) capacity() Capacity { return Capacity{} }

// isFQDN: at least two DNS labels, 253 bytes at most, an optional final dot.
func isFQDN(name string) bool {
	name = strings.TrimSuffix(name, ".")
	labels := strings.Split(name, ".")
	if len(name) > 253 || len(labels) < 2 {
		return false
	}
	for _, label := range labels {
		if !dnsLabelPattern.MatchString(label) {
			return false
		}
	}
	return true
}

// validateProxy checks what both gateway types share. A TLS-passthrough backend is ip:port
// (the gateway forwards TLS untouched); otherwise http://ip[:port]. Loopback is refused: it
// would reach the node itself.
func validateProxy(name string, passthrough bool, backends []string, network string) error {
	if network != "" {
		if err := checkName(name, "network", network); err != nil {
			return err
		}
	}
	if len(backends) == 0 {
		return workloadErr(name, "backends", nil, ErrMissing, "needs at least one backend")
	}
	for i, backend := range backends {
		field := fmt.Sprintf("backends[%d]", i)
		host, err := backendHost(name, field, backend, passthrough)
		if err != nil {
			return err
		}
		if addr, _ := netip.ParseAddr(host); addr.IsLoopback() || addr.IsUnspecified() {
			return workloadErr(name, field, backend, ErrInvalidValue, "points at the node itself")
		}
	}
	return nil
}

func backendHost(name, field, backend string, passthrough bool) (string, error) {
	if passthrough {
		return checkHostPort(name, field, backend, true)
	}
	u, err := url.Parse(backend)
	if err != nil || u.Scheme != "http" || u.Path != "" && u.Path != "/" || u.User != nil || u.RawQuery != "" {
		return "", workloadErr(name, field, backend, ErrInvalidValue, "is not http://ip[:port]")
	}
	if _, err := netip.ParseAddr(u.Hostname()); err != nil {
		return "", workloadErr(name, field, backend, ErrInvalidValue, "is not http://ip[:port]")
	}
	if port := u.Port(); port != "" {
		if _, err := checkHostPort(name, field, u.Host, true); err != nil {
			return "", err
		}
	}
	return u.Hostname(), nil
}

// ZLogs streams a machine's console to a log collector (type "zlogs").
type ZLogs struct {
	// ZMachine names a zmachine workload of the same deployment.
	ZMachine string `json:"zmachine"`
	// Output is a redis://, ws:// or wss:// URL.
	Output string `json:"output"`
}

var zlogsSchemes = []string{"redis", "ws", "wss"}

func (z *ZLogs) validate(name string) error {
	if err := checkName(name, "zmachine", z.ZMachine); err != nil {
		return err
	}
	u, err := url.Parse(z.Output)
	if err != nil || u.Host == "" || !slices.Contains(zlogsSchemes, u.Scheme) {
		return workloadErr(name, "output", z.Output, ErrInvalidValue, "is not a redis://, ws:// or wss:// URL")
	}
	return nil
}

// capacity: log streaming takes nothing the contract reserves.
func (z *ZLogs) capacity() Capacity { return Capacity{} }
