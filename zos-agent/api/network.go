package api

import (
	"context"
	"fmt"

	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

// Network holds what the zos.network.* commands read.
type Network struct {
	Networks *network.Manager
	// PublicIPs is nil when the node has no public network configured.
	PublicIPs *publicip.Manager
	Public    PublicConfig
}

// PublicConfig is the node's public network, as zos.network.public_config_get returns it.
type PublicConfig struct {
	Interface string `json:"interface"`
	// Bridge is the bridge public IPs are plugged into (Interface itself when it is one).
	Bridge  string `json:"bridge"`
	Gateway string `json:"gateway"`
	// Domain is the node's gateway domain: gateway-name-proxy workloads serve <name>.<domain>.
	Domain string `json:"domain,omitempty"`
}

// NetworkRequest names one of the caller's networks.
type NetworkRequest struct {
	NetworkName string `json:"network_name"`
}

func (a *API) networkHandlers() map[string]peer.Handler {
	return map[string]peer.Handler{
		"zos.network.list_wg_ports": func(context.Context, *peer.Request) (any, error) {
			return a.Network.Networks.ListenPorts()
		},
		"zos.network.list_private_ips": a.listPrivateIPs,
		"zos.network.list_public_ips":  a.listPublicIPs,
		"zos.network.public_config_get": func(context.Context, *peer.Request) (any, error) {
			if a.Network.PublicIPs == nil && a.Network.Public.Domain == "" {
				return nil, engine.ErrNoPublicNetwork
			}
			return a.Network.Public, nil
		},
	}
}

// listPrivateIPs lists the addresses taken in one of the caller's networks on this node.
func (a *API) listPrivateIPs(_ context.Context, req *peer.Request) (any, error) {
	var r NetworkRequest
	if err := req.Decode(&r); err != nil {
		return nil, err
	}
	if req.Source.Twin > uint64(^uint32(0)) {
		return nil, fmt.Errorf("twin %d: not a twin id", req.Source.Twin)
	}
	machines, err := a.Network.Networks.Machines(uint32(req.Source.Twin), r.NetworkName)
	if err != nil {
		return nil, err
	}
	ips := []string{}
	for _, m := range machines {
		ips = append(ips, m.IP.String())
	}
	return ips, nil
}

// listPublicIPs lists the public IPs workloads hold on this node.
func (a *API) listPublicIPs(context.Context, *peer.Request) (any, error) {
	ips := []string{}
	if a.Network.PublicIPs == nil {
		return ips, nil
	}
	records, err := a.Network.PublicIPs.List()
	if err != nil {
		return nil, err
	}
	for _, r := range records {
		ips = append(ips, r.IP.String())
	}
	return ips, nil
}
