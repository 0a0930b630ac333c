package deployment

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateAcceptsTheVectors(t *testing.T) {
	for _, file := range []string{"vector1.json", "vector2.json", "vector3.json"} {
		if err := mustParse(t, loadTree(t, file)).Deployment.Validate(); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// workload builds a workload of the given type and data at version 1 (vector2's version).
func workload(name, typ string, data map[string]any) map[string]any {
	return map[string]any{"version": 1, "name": name, "type": typ, "data": data, "metadata": "", "description": ""}
}

// Each case breaks one rule of vector2 (workloads: 0 net, 1 data, 2 ipv4, 3 web).
func TestValidateRules(t *testing.T) {
	const vm = "workloads.3.data."
	cases := []struct {
		name   string
		mutate func(t *testing.T, tree map[string]any)
		rule   error
		msg    string
	}{
		{"memory below 256 MiB", setTo(vm+"compute_capacity.memory", 1048576), ErrBelowMinimum,
			`workload "web": compute_capacity.memory 1048576 is below the minimum 268435456 (256 MiB)`},
		{"no cpu", setTo(vm+"compute_capacity.cpu", 0), ErrBelowMinimum, `workload "web": compute_capacity.cpu 0 must be at least 1`},
		{"cpu beyond uint8", setTo(vm+"compute_capacity.cpu", 256), ErrWrongType,
			`workload "web": compute_capacity.cpu 256 is not an integer from 0 to 255`},
		{"root below minimum", setTo(vm+"size", 100*MiB), ErrBelowMinimum, `workload "web": size 104857600 is below the minimum root filesystem 524288000 (500 MiB)`},
		{"root below minimum of a big machine", func(t *testing.T, tree map[string]any) {
			set(t, tree, vm+"compute_capacity.memory", 4*GiB)
			set(t, tree, vm+"size", GiB)
		}, ErrBelowMinimum, "is below the minimum root filesystem 2147483648 (2048 MiB)"},
		{"no flist", setTo(vm+"flist", ""), ErrMissing, `workload "web": flist is required`},
		{"two interfaces", setTo(vm+"network.interfaces", []any{
			map[string]any{"network": "net", "ip": "10.1.3.2"}, map[string]any{"network": "net", "ip": "10.1.3.3"}}),
			ErrInvalidValue, "network.interfaces has 2 entries; a machine has exactly 1"},
		{"interface ip not IPv4", setTo(vm+"network.interfaces.0.ip", "fd00::1"), ErrInvalidValue, `network.interfaces[0].ip "fd00::1" is not an IPv4 address`},
		{"reserved network name", setTo(vm+"network.interfaces.0.network", "ygg"), ErrInvalidName, "is reserved"},
		{"bad mycelium seed", setTo(vm+"network.mycelium", map[string]any{"network": "net", "hex_seed": "abcd"}),
			ErrInvalidValue, `network.mycelium.hex_seed "abcd" is not 6 bytes in hex`},
		{"mount of a missing disk", setTo(vm+"mounts.0.name", "nodisk"), ErrBadReference, `mounts[0].name "nodisk" names no workload of this deployment`},
		{"mount of a network", setTo(vm+"mounts.0.name", "net"), ErrBadReference, `mounts[0].name "net" is a network workload`},
		{"relative mountpoint", setTo(vm+"mounts.0.mountpoint", "data"), ErrInvalidValue, `mounts[0].mountpoint "data" is not an absolute path`},
		{"public ip of a disk", setTo(vm+"network.public_ip", "data"), ErrBadReference, `network.public_ip "data" is a zmount workload`},
		{"public ip used twice", addWorkload(workload("web2", TypeZMachine, map[string]any{
			"flist": "alpine:3.20", "compute_capacity": map[string]any{"cpu": 1, "memory": 512 * MiB},
			"network": map[string]any{"public_ip": "ipv4", "interfaces": []any{map[string]any{"network": "net", "ip": "10.1.3.3"}}},
		})), ErrReferenceInUse, `workload "web2": network.public_ip "ipv4" is already used by machine "web"`},
		{"disk mounted by two machines", addWorkload(workload("web2", TypeZMachine, map[string]any{
			"flist": "alpine:3.20", "compute_capacity": map[string]any{"cpu": 1, "memory": 512 * MiB},
			"network": map[string]any{"interfaces": []any{map[string]any{"network": "net", "ip": "10.1.3.3"}}},
			"mounts":  []any{map[string]any{"name": "data", "mountpoint": "/d"}},
		})), ErrReferenceInUse, `"data" is already used by machine "web"`},
		{"env value not a string", setTo(vm+"env", map[string]any{"A": 5}), ErrWrongType, `workload "web": env.A 5 is not a string`},
		{"interface ip not a string", setTo(vm+"network.interfaces.0.ip", 5), ErrWrongType, `network.interfaces[0].ip 5 is not a string`},
		{"env name with =", setTo(vm+"env", map[string]any{"A=B": "c"}), ErrInvalidValue, `env "A=B" is not an environment variable name`},
		{"unknown field in data", setTo(vm+"cores", 2), ErrUnknownField, `workload "web": cores is not a field`},
		{"field in data in other case", setTo(vm+"Size", 2), ErrUnknownField, `workload "web": Size is not a field`},
		{"duplicate key in data", nil, ErrDuplicateKey, "appears twice"},
		{"zero disk", setTo("workloads.1.data.size", 0), ErrBelowMinimum, `workload "data": size 0 must be greater than 0`},
		{"ip asks for nothing", setTo("workloads.2.data.v4", false), ErrInvalidValue, `workload "ipv4": v4 false and v6 are both false`},
		{"subnet outside range", setTo("workloads.0.data.subnet", "10.2.3.0/24"), ErrInvalidValue, `subnet "10.2.3.0/24" is not inside ip_range 10.1.0.0/16`},
		{"bad ip range", setTo("workloads.0.data.ip_range", "10.1.0.0"), ErrInvalidValue, `ip_range "10.1.0.0" is not an address with a prefix length`},
		{"bad wireguard key", setTo("workloads.0.data.wireguard_private_key", "abc"), ErrInvalidValue, `wireguard_private_key "abc" is not a WireGuard key`},
		{"no listen port", setTo("workloads.0.data.wireguard_listen_port", 0), ErrBelowMinimum, "wireguard_listen_port 0"},
		{"port beyond 65535", setTo("workloads.0.data.wireguard_listen_port", 70000), ErrWrongType, "wireguard_listen_port 70000 is not an integer from 0 to 65535"},
		{"peer without allowed ips", setTo("workloads.0.data.peers.0.allowed_ips", []any{}), ErrMissing, "peers[0].allowed_ips needs at least one"},
		{"peer bad endpoint", setTo("workloads.0.data.peers.0.endpoint", "1.2.3.4"), ErrInvalidValue, `peers[0].endpoint "1.2.3.4" is not host:port`},
		{"bad name", setTo("workloads.1.name", "my disk"), ErrInvalidName, `workloads[1].name "my disk" is not a workload name`},
		{"long name", setTo("workloads.1.name", strings.Repeat("a", 37)), ErrInvalidName, "is not a workload name (1 to 36"},
		{"empty name", setTo("workloads.1.name", ""), ErrMissing, "deployment: workloads[1].name is required"},
		{"duplicate name", setTo("workloads.2.name", "data"), ErrDuplicateName, `workload "data": name "data" is used by two workloads`},
		{"unknown type", setTo("workloads.1.type", "vm"), ErrUnknownType, `workload "data": type "vm" is not a workload type (known: gateway-fqdn-proxy`},
		{"workload version above deployment", setTo("workloads.1.version", 2), ErrWorkloadVersion, `workload "data": version 2 is above the deployment version 1`},
		{"no data", setTo("workloads.1.data", nil), ErrMissing, `workload "data": data is required for a zmount workload`},
		{"data not an object", setTo("workloads.1.data", "big"), ErrWrongType, `workload "data": data is not a JSON object`},
		{"signature style", setTo("signature_requirement.signature_style", "polka-wallet"), ErrUnsupportedSignature, "signature_style"},
		{"signature type", setTo("signature_requirement.signatures.0.signature_type", "ed25519"), ErrUnsupportedSignature,
			`signature_requirement.signatures[0].signature_type "ed25519" is not "secp256k1"`},
		{"two signatures of a twin", func(t *testing.T, tree map[string]any) {
			sigs := get(t, tree, "signature_requirement.signatures").([]any)
			set(t, tree, "signature_requirement.signatures", append(sigs, sigs[0]))
		}, ErrDuplicateSignature, "signature_requirement.signatures[1].twin_id 7 has signed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var raw []byte
			if tc.mutate == nil { // a duplicate key cannot be built from a map
				raw = []byte(strings.Replace(string(encode(t, validTree(t))), `"size":1073741824`, `"size":1073741824,"size":1`, 1))
			} else {
				tree := validTree(t)
				tc.mutate(t, tree)
				raw = encode(t, tree)
			}
			err := validateJSON(raw)
			if !errors.Is(err, tc.rule) {
				t.Fatalf("error %v, want rule %v", err, tc.rule)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q does not say %q", err, tc.msg)
			}
		})
	}
}

// validateJSON is Parse then Validate.
func validateJSON(raw []byte) error {
	doc, err := Parse(raw)
	if err != nil {
		return err
	}
	return doc.Deployment.Validate()
}

func setTo(path string, value any) func(*testing.T, map[string]any) {
	return func(t *testing.T, tree map[string]any) { set(t, tree, path, value) }
}

func addWorkload(w map[string]any) func(*testing.T, map[string]any) {
	return func(t *testing.T, tree map[string]any) {
		tree["workloads"] = append(tree["workloads"].([]any), w)
	}
}

// One valid and one invalid value of each remaining type.
func TestValidateOtherTypes(t *testing.T) {
	aesKey := strings.Repeat("ab", 32)
	backend := map[string]any{"address": "[2a02::1]:9900", "namespace": "ns1", "password": "p"}
	qsfs := func() map[string]any {
		return map[string]any{
			"cache": GiB, "minimal_shards": 2, "expected_shards": 4, "redundant_groups": 0, "redundant_nodes": 0,
			"max_zdb_data_dir_size": 32, "encryption": map[string]any{"algorithm": "AES", "key": aesKey},
			"meta":   map[string]any{"type": "zdb", "prefix": "p", "encryption": map[string]any{"algorithm": "AES", "key": aesKey}, "backends": []any{backend}},
			"groups": []any{map[string]any{"backends": []any{backend, backend}}}, "compression": map[string]any{"algorithm": "snappy"},
		}
	}
	badQSFS := qsfs()
	badQSFS["minimal_shards"] = 5
	cases := []struct {
		name string
		w    map[string]any
		rule error // nil: valid
		msg  string
	}{
		{"volume", workload("vol", TypeVolume, map[string]any{"size": GiB}), nil, ""},
		{"zdb", workload("db", TypeZDB, map[string]any{"size": GiB, "mode": "seq", "password": "x", "public": true}), nil, ""},
		{"zdb mode", workload("db", TypeZDB, map[string]any{"size": GiB, "mode": "fast"}), ErrInvalidValue, `workload "db": mode "fast" is not a zdb mode`},
		{"qsfs", workload("q", TypeQSFS, qsfs()), nil, ""},
		{"qsfs shards", workload("q", TypeQSFS, badQSFS), ErrInvalidValue, "minimal_shards 5 is above expected_shards 4"},
		{"name proxy", workload("gw", TypeGatewayNameProxy, map[string]any{"name": "my-site", "backends": []any{"http://10.1.3.2:8080"}}), nil, ""},
		{"name proxy passthrough", workload("gw", TypeGatewayNameProxy, map[string]any{"name": "s", "tls_passthrough": true, "backends": []any{"[2a02::5]:443"}}), nil, ""},
		{"name proxy bad name", workload("gw", TypeGatewayNameProxy, map[string]any{"name": "a.b", "backends": []any{"http://10.1.3.2"}}),
			ErrInvalidValue, `name "a.b" is not a gateway name`},
		{"name proxy loopback", workload("gw", TypeGatewayNameProxy, map[string]any{"name": "s", "backends": []any{"http://127.0.0.1:80"}}),
			ErrInvalidValue, `backends[0] "http://127.0.0.1:80" points at the node itself`},
		{"name proxy https", workload("gw", TypeGatewayNameProxy, map[string]any{"name": "s", "backends": []any{"https://10.1.3.2"}}),
			ErrInvalidValue, "is not http://ip[:port]"},
		{"name proxy no backends", workload("gw", TypeGatewayNameProxy, map[string]any{"name": "s"}), ErrMissing, "backends needs at least one backend"},
		{"fqdn proxy", workload("gw", TypeGatewayFQDNProxy, map[string]any{"fqdn": "shop.example.com", "backends": []any{"http://10.1.3.2"}}), nil, ""},
		{"fqdn proxy bad fqdn", workload("gw", TypeGatewayFQDNProxy, map[string]any{"fqdn": "localhost", "backends": []any{"http://10.1.3.2"}}),
			ErrInvalidValue, `fqdn "localhost" is not a fully qualified domain name`},
		{"zlogs", workload("logs", TypeZLogs, map[string]any{"zmachine": "web", "output": "wss://10.1.3.9:9000/logs"}), nil, ""},
		{"zlogs of a disk", workload("logs", TypeZLogs, map[string]any{"zmachine": "data", "output": "redis://10.1.3.9"}), ErrBadReference,
			`zmachine "data" is a zmount workload`},
		{"zlogs scheme", workload("logs", TypeZLogs, map[string]any{"zmachine": "web", "output": "http://10.1.3.9"}), ErrInvalidValue,
			"is not a redis://, ws:// or wss:// URL"},
		{"mount of a volume", nil, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := validTree(t)
			if tc.w != nil {
				addWorkload(tc.w)(t, tree)
			} else {
				addWorkload(workload("vol", TypeVolume, map[string]any{"size": GiB}))(t, tree)
				set(t, tree, "workloads.3.data.mounts", append(get(t, tree, "workloads.3.data.mounts").([]any),
					map[string]any{"name": "vol", "mountpoint": "/vol"}))
			}
			err := validateJSON(encode(t, tree))
			if tc.rule == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.rule) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want rule %v saying %q", err, tc.rule, tc.msg)
			}
		})
	}
}
