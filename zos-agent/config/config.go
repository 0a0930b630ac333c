// Package config is the node agent's configuration: a TOML or YAML file, then ZOS_AGENT_*
// environment variables, then command-line flags, each overriding the one before. Unknown keys and
// bad values are errors that name the key, found before the agent changes anything.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"
	yaml "go.yaml.in/yaml/v3"

	"github.com/tfgrid/tfgrid/zos-agent/backend/gateway"
)

// Config is everything the agent needs. Keys are snake_case in both file formats.
type Config struct {
	Chain   Chain    `toml:"chain" yaml:"chain"`
	Relays  []string `toml:"relays" yaml:"relays"`
	Key     Key      `toml:"key" yaml:"key"`
	FarmID  uint64   `toml:"farm_id" yaml:"farm_id"`
	DataDir string   `toml:"data_dir" yaml:"data_dir"`
	// Storage pools: directories whose filesystems hold disks and volumes.
	Storage []Pool `toml:"storage" yaml:"storage"`
	// Backends the agent runs; default all this machine supports ("container", "disk").
	Backends []string `toml:"backends" yaml:"backends"`
	// CPUOvercommit: how many times its logical CPUs the node lets deployments reserve.
	CPUOvercommit float64 `toml:"cpu_overcommit" yaml:"cpu_overcommit"`
	// LinkRateMbit is the node's uplink in Mbit/s: the chain refuses network use reported beyond it.
	LinkRateMbit uint64   `toml:"link_rate_mbit" yaml:"link_rate_mbit"`
	Periods      Periods  `toml:"periods" yaml:"periods"`
	MetricsAddr  string   `toml:"metrics_addr" yaml:"metrics_addr"`
	Location     Location `toml:"location" yaml:"location"`
	LogLevel     string   `toml:"log_level" yaml:"log_level"`
	// PublicConfig is the farm's public network on this node; without it the node runs no "ip"
	// workloads.
	PublicConfig PublicConfig `toml:"public_config" yaml:"public_config"`
	// UplinkNetNS is the network namespace (a name under /var/run/netns or a path) holding the
	// uplink: where WireGuard listens, where the public bridge is and where the gateway listens;
	// empty is the agent's own.
	UplinkNetNS string `toml:"uplink_netns" yaml:"uplink_netns"`
	// Gateway is the node's web gateway; without a domain the node runs no gateway workloads.
	Gateway Gateway `toml:"gateway" yaml:"gateway"`
}

// Gateway is the node's web gateway: <name>.<domain> proxied to gateway-name-proxy workloads.
type Gateway struct {
	// Domain is the node's gateway domain (its DNS has a wildcard record for the node).
	Domain string `toml:"domain" yaml:"domain"`
	// HTTP is the plain-HTTP listener, host:port.
	HTTP string `toml:"http" yaml:"http"`
	// TLS is the TLS-passthrough listener, host:port; empty: none.
	TLS string `toml:"tls" yaml:"tls"`
}

// Enabled says whether the node runs a gateway.
func (g Gateway) Enabled() bool { return g.Domain != "" }

// PublicConfig is the farm's public network as the node reaches it.
type PublicConfig struct {
	// Interface is a bridge on the farm's network, or an interface dedicated to it (no address)
	// that the agent puts into its own public bridge.
	Interface string `toml:"interface" yaml:"interface"`
	// Gateway is the farm's IPv4 gateway (a contract's IP may name its own).
	Gateway string `toml:"gateway" yaml:"gateway"`
}

// Enabled says whether a public network is configured.
func (p PublicConfig) Enabled() bool { return p.Interface != "" }

// Chain is how the agent reaches the chain.
type Chain struct {
	GRPC      string   `toml:"grpc" yaml:"grpc"`
	RPC       string   `toml:"rpc" yaml:"rpc"`
	ChainID   string   `toml:"chain_id" yaml:"chain_id"`
	BlockTime Duration `toml:"block_time" yaml:"block_time"`
}

// Key is the node's account key: a file holding its BIP-39 mnemonic, or a key of a Cosmos test
// keyring directory (as `tfgridd keys add --keyring-backend test` writes).
type Key struct {
	MnemonicFile string `toml:"mnemonic_file" yaml:"mnemonic_file"`
	KeyringDir   string `toml:"keyring_dir" yaml:"keyring_dir"`
	Name         string `toml:"name" yaml:"name"`
}

// Pool is a storage pool.
type Pool struct {
	Path string `toml:"path" yaml:"path"`
	// Kind is "ssd", "hdd", or "auto" (the device's rotational flag).
	Kind string `toml:"kind" yaml:"kind"`
}

// Periods of the agent's recurring work.
type Periods struct {
	Uptime    Duration `toml:"uptime" yaml:"uptime"`
	Report    Duration `toml:"report" yaml:"report"`
	Reconcile Duration `toml:"reconcile" yaml:"reconcile"`
}

// Location is where the node is, as registered on chain.
type Location struct {
	City      string `toml:"city" yaml:"city"`
	Country   string `toml:"country" yaml:"country"`
	Latitude  string `toml:"latitude" yaml:"latitude"`
	Longitude string `toml:"longitude" yaml:"longitude"`
}

// Duration is a time.Duration written as "40m", "1h", "5s".
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. 40m, 1h, 5s)", b)
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// maxLinkRateMbit is x/tfgrid's default max_link_rate (100 Gbit/s).
const maxLinkRateMbit = 100_000

// Default is the configuration before any file, variable or flag.
func Default() Config {
	return Config{
		Chain:         Chain{GRPC: "127.0.0.1:9090", RPC: "http://127.0.0.1:26657", ChainID: "tfgrid-local-1", BlockTime: Duration{6 * time.Second}},
		Relays:        []string{"ws://127.0.0.1:8080"},
		DataDir:       "/var/lib/zos-agent",
		CPUOvercommit: 2,
		LinkRateMbit:  1000,
		Periods: Periods{
			Uptime:    Duration{40 * time.Minute},
			Report:    Duration{time.Hour},
			Reconcile: Duration{5 * time.Minute},
		},
		MetricsAddr: "127.0.0.1:9100",
		LogLevel:    "info",
		Gateway:     Gateway{HTTP: "0.0.0.0:80", TLS: "0.0.0.0:443"},
	}
}

// LoadFile reads path over c: TOML for .toml, YAML for .yaml/.yml. Unknown keys are errors.
func (c *Config) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".toml":
		dec := toml.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(c); err != nil {
			return fmt.Errorf("config file %s: %s", path, describeTOMLError(err))
		}
	case ".yaml", ".yml":
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
			return fmt.Errorf("config file %s: %w", path, err)
		}
	default:
		return fmt.Errorf("config file %s: extension %q: want .toml, .yaml or .yml", path, ext)
	}
	return nil
}

func describeTOMLError(err error) string {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var keys []string
		for _, e := range strict.Errors {
			keys = append(keys, strings.Join(e.Key(), "."))
		}
		return fmt.Sprintf("unknown key(s) %s", strings.Join(keys, ", "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return fmt.Sprintf("line %d column %d: key %s: %s", row, col, strings.Join(de.Key(), "."), de.Error())
	}
	return err.Error()
}

// Validate checks every value and names the key of the first bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key string, value any, why string) {
		errs = append(errs, fmt.Errorf("%s = %v: %s", key, value, why))
	}
	if _, _, err := net.SplitHostPort(c.Chain.GRPC); err != nil {
		bad("chain.grpc", quote(c.Chain.GRPC), "want host:port")
	}
	if u, err := url.Parse(c.Chain.RPC); err != nil || u.Host == "" || !oneOf(u.Scheme, "http", "https", "tcp", "ws", "wss") {
		bad("chain.rpc", quote(c.Chain.RPC), "want http://host:port")
	}
	if c.Chain.ChainID == "" {
		bad("chain.chain_id", `""`, "required")
	}
	if c.Chain.BlockTime.Duration <= 0 {
		bad("chain.block_time", c.Chain.BlockTime, "must be positive")
	}
	if len(c.Relays) == 0 || len(c.Relays) > 4 {
		bad("relays", c.Relays, "want 1 to 4 relay URLs")
	}
	for i, r := range c.Relays {
		if u, err := url.Parse(r); err != nil || u.Host == "" || !oneOf(u.Scheme, "ws", "wss") {
			bad(fmt.Sprintf("relays[%d]", i), quote(r), "want ws://host[:port] or wss://host[:port]")
		}
	}
	switch {
	case c.Key.MnemonicFile != "" && c.Key.KeyringDir != "":
		bad("key", "mnemonic_file and keyring_dir", "set one of them, not both")
	case c.Key.MnemonicFile == "" && c.Key.KeyringDir == "":
		bad("key", "{}", "set key.mnemonic_file, or key.keyring_dir and key.name")
	case c.Key.KeyringDir != "" && c.Key.Name == "":
		bad("key.name", `""`, "required with key.keyring_dir")
	}
	if c.FarmID == 0 {
		bad("farm_id", 0, "required: the farm this node joins")
	}
	if c.DataDir == "" || !filepath.IsAbs(c.DataDir) {
		bad("data_dir", quote(c.DataDir), "want an absolute path")
	}
	for i, p := range c.Storage {
		if p.Path == "" || !filepath.IsAbs(p.Path) {
			bad(fmt.Sprintf("storage[%d].path", i), quote(p.Path), "want an absolute path")
		}
		if !oneOf(p.Kind, "", "auto", "ssd", "hdd") {
			bad(fmt.Sprintf("storage[%d].kind", i), quote(p.Kind), "want ssd, hdd or auto")
		}
	}
	for i, b := range c.Backends {
		if !oneOf(b, "container", "disk") {
			bad(fmt.Sprintf("backends[%d]", i), quote(b), "unknown backend (known: container, disk)")
		}
	}
	if c.CPUOvercommit < 1 || c.CPUOvercommit > 16 {
		bad("cpu_overcommit", c.CPUOvercommit, "want 1 to 16")
	}
	if c.LinkRateMbit > maxLinkRateMbit {
		bad("link_rate_mbit", c.LinkRateMbit, fmt.Sprintf("want at most %d (the chain's max_link_rate)", maxLinkRateMbit))
	}
	for _, p := range []struct {
		key string
		d   Duration
	}{{"periods.uptime", c.Periods.Uptime}, {"periods.report", c.Periods.Report}, {"periods.reconcile", c.Periods.Reconcile}} {
		if p.d.Duration < time.Second {
			bad(p.key, p.d, "want at least 1s")
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("metrics_addr", quote(c.MetricsAddr), "want host:port (empty: no metrics server)")
		}
	}
	switch pc := c.PublicConfig; {
	case pc.Interface == "" && pc.Gateway != "":
		bad("public_config.interface", `""`, "required with public_config.gateway")
	case pc.Interface != "" && !validIfName(pc.Interface):
		bad("public_config.interface", quote(pc.Interface), "want an interface name of 1 to 15 characters")
	case pc.Interface != "":
		if ip, err := netip.ParseAddr(pc.Gateway); err != nil || !ip.Is4() {
			bad("public_config.gateway", quote(pc.Gateway), "want the farm's IPv4 gateway")
		}
	}
	if g := c.Gateway; g.Enabled() {
		if err := gateway.ValidateDomain(g.Domain); err != nil {
			bad("gateway.domain", quote(g.Domain), "want a lower-case domain name of two or more labels (empty: no gateway)")
		}
		if _, _, err := net.SplitHostPort(g.HTTP); err != nil {
			bad("gateway.http", quote(g.HTTP), "want host:port")
		}
		if _, _, err := net.SplitHostPort(g.TLS); g.TLS != "" && err != nil {
			bad("gateway.tls", quote(g.TLS), "want host:port (empty: no TLS passthrough)")
		}
	}
	if !oneOf(c.LogLevel, "debug", "info", "warn", "error") {
		bad("log_level", quote(c.LogLevel), "want debug, info, warn or error")
	}
	return errors.Join(errs...)
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

func validIfName(s string) bool {
	return len(s) >= 1 && len(s) <= 15 && !strings.ContainsAny(s, "/ \t\n\x00")
}

func quote(s string) string { return fmt.Sprintf("%q", s) }
