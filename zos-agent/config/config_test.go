package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"
)

const tomlConfig = `
farm_id = 3
data_dir = "/var/lib/tfz"
relays = ["ws://127.0.0.1:8080"]
cpu_overcommit = 4

[chain]
grpc = "127.0.0.1:9091"
rpc = "http://127.0.0.1:26658"
chain_id = "tfgrid-test-1"
block_time = "1s"

[key]
mnemonic_file = "/etc/zos-agent/mnemonic"

[periods]
report = "10s"

[[storage]]
path = "/srv/pool1"
kind = "ssd"
`

const yamlConfig = `
farm_id: 3
data_dir: /var/lib/tfz
cpu_overcommit: 4
chain:
  grpc: 127.0.0.1:9091
  rpc: http://127.0.0.1:26658
  chain_id: tfgrid-test-1
  block_time: 1s
key:
  mnemonic_file: /etc/zos-agent/mnemonic
periods:
  report: 10s
storage:
  - path: /srv/pool1
    kind: ssd
`

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func load(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("zos-agent", pflag.ContinueOnError)
	RegisterFlags(fs)
	require.NoError(t, fs.Parse(args))
	return Load(fs)
}

func TestLoadTOMLAndYAMLAgree(t *testing.T) {
	fromTOML, err := load(t, "--config", write(t, "agent.toml", tomlConfig))
	require.NoError(t, err)
	fromYAML, err := load(t, "--config", write(t, "agent.yaml", yamlConfig))
	require.NoError(t, err)
	require.Equal(t, fromTOML, fromYAML)
	require.Equal(t, uint64(3), fromTOML.FarmID)
	require.Equal(t, "127.0.0.1:9091", fromTOML.Chain.GRPC)
	require.Equal(t, 10*time.Second, fromTOML.Periods.Report.Duration)
	require.Equal(t, 40*time.Minute, fromTOML.Periods.Uptime.Duration, "unset keys keep their default")
	require.Equal(t, []Pool{{Path: "/srv/pool1", Kind: "ssd"}}, fromTOML.Storage)
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	path := write(t, "agent.toml", tomlConfig)
	t.Setenv("ZOS_AGENT_FARM_ID", "7")
	t.Setenv("ZOS_AGENT_REPORT_PERIOD", "20s")
	c, err := load(t, "--config", path, "--report-period", "30s")
	require.NoError(t, err)
	require.Equal(t, uint64(7), c.FarmID, "the environment overrides the file")
	require.Equal(t, 30*time.Second, c.Periods.Report.Duration, "a flag overrides the environment")
	t.Setenv("ZOS_AGENT_CONFIG", path)
	c, err = load(t)
	require.NoError(t, err)
	require.Equal(t, "tfgrid-test-1", c.Chain.ChainID, "ZOS_AGENT_CONFIG names the file")
}

func TestPublicConfig(t *testing.T) {
	c, err := load(t, "--config", write(t, "agent.toml", "uplink_netns = \"uplink\"\n"+tomlConfig+"[public_config]\ninterface = \"br-pub\"\ngateway = \"185.206.122.1\"\n"))
	require.NoError(t, err)
	require.Equal(t, PublicConfig{Interface: "br-pub", Gateway: "185.206.122.1"}, c.PublicConfig)
	require.True(t, c.PublicConfig.Enabled())
	require.Equal(t, "uplink", c.UplinkNetNS)
	c, err = load(t, "--config", write(t, "agent.toml", tomlConfig))
	require.NoError(t, err)
	require.False(t, c.PublicConfig.Enabled(), "no public network unless configured")
}

func TestGatewayConfig(t *testing.T) {
	c, err := load(t, "--config", write(t, "agent.toml", tomlConfig+"[gateway]\ndomain = \"gw.example.com\"\ntls = \"\"\n"),
		"--gateway-http", "185.206.122.5:8080")
	require.NoError(t, err)
	require.Equal(t, Gateway{Domain: "gw.example.com", HTTP: "185.206.122.5:8080"}, c.Gateway)
	require.True(t, c.Gateway.Enabled())
	c, err = load(t, "--config", write(t, "agent.toml", tomlConfig))
	require.NoError(t, err)
	require.False(t, c.Gateway.Enabled(), "no gateway unless a domain is configured")
	require.Equal(t, "0.0.0.0:80", c.Gateway.HTTP)
	require.Equal(t, "0.0.0.0:443", c.Gateway.TLS)
}

func TestErrorsNameTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		args                []string
		want                string
	}{
		{"toml unknown key", "a.toml", tomlConfig + "\n[chain2]\nx = 1\n", nil, "unknown key(s) chain2"},
		{"toml unknown nested key", "a.toml", "farm_id = 1\n[periods]\nreprot = \"1s\"\n", nil, "periods.reprot"},
		{"toml bad duration", "a.toml", "[periods]\nreport = \"soon\"\n", nil, `"soon" is not a duration`},
		{"yaml unknown key", "a.yaml", yamlConfig + "frm_id: 2\n", nil, "field frm_id not found"},
		{"extension", "a.json", "{}", nil, `extension ".json"`},
		{"farm id missing", "a.toml", "[key]\nmnemonic_file = \"/m\"\n", nil, "farm_id = 0: required"},
		{"bad relay", "a.toml", tomlConfig, []string{"--relays", "http://relay"}, `relays[0] = "http://relay": want ws://host[:port]`},
		{"bad storage kind", "a.toml", tomlConfig, []string{"--storage", "/srv/p:nvme"}, `storage[0].kind = "nvme"`},
		{"relative data dir", "a.toml", tomlConfig, []string{"--data-dir", "data"}, `data_dir = "data": want an absolute path`},
		{"flag not a number", "a.toml", tomlConfig, []string{"--farm-id", "x"}, `--farm-id: "x" is not a farm id`},
		{"both keys", "a.toml", tomlConfig, []string{"--keyring-dir", "/k", "--key-name", "n"}, "set one of them, not both"},
		{"period too short", "a.toml", tomlConfig, []string{"--uptime-period", "10ms"}, "periods.uptime = 10ms: want at least 1s"},
		{"unknown backend", "a.toml", tomlConfig, []string{"--backends", "container,vm"}, `backends[1] = "vm": unknown backend`},
		{"public gateway without interface", "a.toml", tomlConfig, []string{"--public-gateway", "185.206.122.1"}, `public_config.interface = "": required`},
		{"public gateway not IPv4", "a.toml", tomlConfig, []string{"--public-interface", "eth1", "--public-gateway", "2001:db8::1"},
			`public_config.gateway = "2001:db8::1": want the farm's IPv4 gateway`},
		{"public interface name too long", "a.toml", tomlConfig + "[public_config]\ninterface = \"a-very-long-ifname\"\ngateway = \"185.206.122.1\"\n", nil,
			`public_config.interface = "a-very-long-ifname"`},
		{"gateway domain one label", "a.toml", tomlConfig, []string{"--gateway-domain", "localhost"}, `gateway.domain = "localhost": want a lower-case domain`},
		{"gateway domain upper case", "a.toml", tomlConfig, []string{"--gateway-domain", "GW.example.com"}, `gateway.domain = "GW.example.com"`},
		{"gateway http no port", "a.toml", tomlConfig, []string{"--gateway-domain", "gw.example.com", "--gateway-http", "0.0.0.0"}, `gateway.http = "0.0.0.0": want host:port`},
		{"gateway tls no port", "a.toml", tomlConfig + "[gateway]\ndomain = \"gw.example.com\"\ntls = \"x\"\n", nil, `gateway.tls = "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, append([]string{"--config", write(t, tc.file, tc.content)}, tc.args...)...)
			require.ErrorContains(t, err, tc.want)
		})
	}
	t.Setenv("ZOS_AGENT_CPU_OVERCOMMIT", "lots")
	_, err := load(t, "--config", write(t, "a.toml", tomlConfig))
	require.ErrorContains(t, err, `ZOS_AGENT_CPU_OVERCOMMIT: "lots" is not a number`)
}
