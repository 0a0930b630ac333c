package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// EnvPrefix prefixes the environment variables: ZOS_AGENT_FARM_ID for --farm-id.
const EnvPrefix = "ZOS_AGENT_"

// FlagConfig is the flag naming the config file.
const FlagConfig = "config"

// setting is one configuration key reachable from a flag and an environment variable.
type setting struct {
	key   string // as in the file
	flag  string
	usage string
	set   func(c *Config, v string) error
}

func (s setting) env() string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(s.flag, "-", "_"))
}

func str(p func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *p(c) = v; return nil }
}

func list(p func(*Config) *[]string) func(*Config, string) error {
	return func(c *Config, v string) error {
		var out []string
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
		*p(c) = out
		return nil
	}
}

func duration(p func(*Config) *Duration) func(*Config, string) error {
	return func(c *Config, v string) error { return p(c).UnmarshalText([]byte(v)) }
}

var settings = []setting{
	{"chain.grpc", "chain-grpc", "chain node's gRPC address (host:port)", str(func(c *Config) *string { return &c.Chain.GRPC })},
	{"chain.rpc", "chain-rpc", "chain node's CometBFT RPC (http://host:port)", str(func(c *Config) *string { return &c.Chain.RPC })},
	{"chain.chain_id", "chain-id", "chain id", str(func(c *Config) *string { return &c.Chain.ChainID })},
	{"chain.block_time", "block-time", "the chain's block time (the event watchdog waits 3× it)", duration(func(c *Config) *Duration { return &c.Chain.BlockTime })},
	{"relays", "relays", "RMB relay URLs, comma-separated (ws://host:port)", list(func(c *Config) *[]string { return &c.Relays })},
	{"key.mnemonic_file", "mnemonic-file", "file holding the node account's mnemonic", str(func(c *Config) *string { return &c.Key.MnemonicFile })},
	{"key.keyring_dir", "keyring-dir", "Cosmos test-keyring home holding the node's key (with --key-name)", str(func(c *Config) *string { return &c.Key.KeyringDir })},
	{"key.name", "key-name", "the node's key in --keyring-dir", str(func(c *Config) *string { return &c.Key.Name })},
	{"farm_id", "farm-id", "the farm the node joins", func(c *Config, v string) error {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a farm id", v)
		}
		c.FarmID = id
		return nil
	}},
	{"data_dir", "data-dir", "the agent's state, images, containers and disks", str(func(c *Config) *string { return &c.DataDir })},
	{"storage", "storage", "storage pools, comma-separated PATH[:ssd|hdd|auto]", func(c *Config, v string) error {
		var pools []Pool
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item == "" {
				continue
			}
			path, kind, _ := strings.Cut(item, ":")
			pools = append(pools, Pool{Path: path, Kind: kind})
		}
		c.Storage = pools
		return nil
	}},
	{"backends", "backends", "backends to run, comma-separated (container, disk); default: all supported", list(func(c *Config) *[]string { return &c.Backends })},
	{"cpu_overcommit", "cpu-overcommit", "how many times its CPUs the node lets contracts reserve", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		c.CPUOvercommit = f
		return nil
	}},
	{"link_rate_mbit", "link-rate-mbit", "the node's uplink in Mbit/s (bounds the network use it may report)", func(c *Config, v string) error {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number of Mbit/s", v)
		}
		c.LinkRateMbit = n
		return nil
	}},
	{"periods.uptime", "uptime-period", "how often to report uptime", duration(func(c *Config) *Duration { return &c.Periods.Uptime })},
	{"periods.report", "report-period", "how often to report consumption", duration(func(c *Config) *Duration { return &c.Periods.Report })},
	{"periods.reconcile", "reconcile-period", "how often to reconcile with the node's contracts on chain", duration(func(c *Config) *Duration { return &c.Periods.Reconcile })},
	{"metrics_addr", "metrics-addr", "address of /metrics and /healthz (empty: none)", str(func(c *Config) *string { return &c.MetricsAddr })},
	{"public_config.interface", "public-interface", "the farm's public network: a bridge, or an interface the agent bridges (empty: no public IPs)", str(func(c *Config) *string { return &c.PublicConfig.Interface })},
	{"public_config.gateway", "public-gateway", "the farm's IPv4 gateway on the public network", str(func(c *Config) *string { return &c.PublicConfig.Gateway })},
	{"uplink_netns", "uplink-netns", "network namespace of the uplink (WireGuard, public bridge); empty: the agent's own", str(func(c *Config) *string { return &c.UplinkNetNS })},
	{"gateway.domain", "gateway-domain", "the node's gateway domain: <name>.<domain> serves gateway-name-proxy workloads (empty: no gateway)", str(func(c *Config) *string { return &c.Gateway.Domain })},
	{"gateway.http", "gateway-http", "the gateway's HTTP listener (host:port, in uplink_netns)", str(func(c *Config) *string { return &c.Gateway.HTTP })},
	{"gateway.tls", "gateway-tls", "the gateway's TLS-passthrough listener (host:port, in uplink_netns; empty: none)", str(func(c *Config) *string { return &c.Gateway.TLS })},
	{"log_level", "log-level", "debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
}

// RegisterFlags adds --config and one flag per setting to fs. Their defaults are Default()'s.
func RegisterFlags(fs *pflag.FlagSet) {
	def := Default()
	fs.String(FlagConfig, "", "config file (.toml, .yaml or .yml); ZOS_AGENT_CONFIG")
	for _, s := range settings {
		fs.String(s.flag, defaultText(def, s.key), fmt.Sprintf("%s; %s; key %s", s.usage, s.env(), s.key))
	}
}

// defaultText shows a setting's default in the help.
func defaultText(c Config, key string) string {
	switch key {
	case "chain.grpc":
		return c.Chain.GRPC
	case "chain.rpc":
		return c.Chain.RPC
	case "chain.chain_id":
		return c.Chain.ChainID
	case "chain.block_time":
		return c.Chain.BlockTime.String()
	case "relays":
		return strings.Join(c.Relays, ",")
	case "data_dir":
		return c.DataDir
	case "cpu_overcommit":
		return strconv.FormatFloat(c.CPUOvercommit, 'g', -1, 64)
	case "link_rate_mbit":
		return strconv.FormatUint(c.LinkRateMbit, 10)
	case "periods.uptime":
		return c.Periods.Uptime.String()
	case "periods.report":
		return c.Periods.Report.String()
	case "periods.reconcile":
		return c.Periods.Reconcile.String()
	case "metrics_addr":
		return c.MetricsAddr
	case "log_level":
		return c.LogLevel
	case "gateway.http":
		return c.Gateway.HTTP
	case "gateway.tls":
		return c.Gateway.TLS
	}
	return ""
}

// Load builds the configuration: defaults, then the config file (--config or ZOS_AGENT_CONFIG), then
// the environment, then the flags given on the command line; then validates it.
func Load(fs *pflag.FlagSet) (Config, error) {
	c := Default()
	path, _ := fs.GetString(FlagConfig)
	if !fs.Changed(FlagConfig) {
		path = os.Getenv(EnvPrefix + "CONFIG")
	}
	if path != "" {
		if err := c.LoadFile(path); err != nil {
			return c, err
		}
	}
	for _, s := range settings {
		if v, ok := os.LookupEnv(s.env()); ok {
			if err := s.set(&c, v); err != nil {
				return c, fmt.Errorf("%s: %w", s.env(), err)
			}
		}
	}
	for _, s := range settings {
		if !fs.Changed(s.flag) {
			continue
		}
		v, _ := fs.GetString(s.flag)
		if err := s.set(&c, v); err != nil {
			return c, fmt.Errorf("--%s: %w", s.flag, err)
		}
	}
	return c, c.Validate()
}
