// Package agent wires the node agent together: backends, store, engine, registration, RMB, the
// chain watcher, the reporters and the metrics server. cmd/zos-agent's run command calls Run.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tfgrid/tfgrid/chainclient"
	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/api"
	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/container"
	"github.com/tfgrid/tfgrid/zos-agent/backend/disk"
	webgateway "github.com/tfgrid/tfgrid/zos-agent/backend/gateway"
	"github.com/tfgrid/tfgrid/zos-agent/backend/image"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
	"github.com/tfgrid/tfgrid/zos-agent/backend/network"
	"github.com/tfgrid/tfgrid/zos-agent/backend/publicip"
	"github.com/tfgrid/tfgrid/zos-agent/backend/vm"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
	"github.com/tfgrid/tfgrid/zos-agent/chain"
	"github.com/tfgrid/tfgrid/zos-agent/config"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// Version is the agent's version, reported by zos.system.version.
var Version = "dev"

// Run runs the agent until ctx ends, then stops accepting requests, lets the current job finish
// and leaves every workload running.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	report := backend.Check()
	if err := report.Require(backend.Containers, backend.Images, backend.Disks, backend.Networks); err != nil {
		return fmt.Errorf("this machine cannot run workloads: %w", err)
	}
	key, err := chain.LoadKey(cfg.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	var pools []capacity.PoolConfig
	for _, p := range cfg.Storage {
		pools = append(pools, capacity.PoolConfig{Path: p.Path, Kind: p.Kind})
	}
	measured, err := capacity.Measure(pools)
	if err != nil {
		return fmt.Errorf("measure capacity: %w", err)
	}
	if cfg.PublicConfig.Enabled() {
		if err := report.Require(backend.PublicIPs); err != nil {
			return fmt.Errorf("public_config is set but this machine cannot give workloads public IPs: %w", err)
		}
	}
	b, err := openBackends(cfg, log, report.Require(backend.VMs) == nil)
	if err != nil {
		return err
	}
	if b.Gateway != nil {
		defer b.Gateway.Close()
	}
	if b.VMs == nil {
		log.Warn("no virtual machine backend: machines of VM images are refused", "missing", report.Require(backend.VMs))
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "agent.db"))
	if err != nil {
		return err
	}
	defer st.Close()

	client, err := chainclient.Dial(cfg.Chain.GRPC, cfg.Chain.RPC)
	if err != nil {
		return err
	}
	defer client.Close()
	bc, err := client.NewBroadcaster(key, cfg.Chain.ChainID)
	if err != nil {
		return err
	}
	e2e, err := rmb.DeriveE2EKey(key)
	if err != nil {
		return err
	}
	id, err := registerUntilDone(ctx, client, bc, chain.Registration{
		Relays: cfg.Relays, E2EKey: e2e.PubKey().Bytes(), FarmID: cfg.FarmID, Resources: registered(measured.Total, cfg.CPUOvercommit),
		LinkRate: linkRate(cfg.LinkRateMbit),
		Location: tftypes.Location{City: orUnknown(cfg.Location.City), Country: orUnknown(cfg.Location.Country),
			Latitude: orUnknown(cfg.Location.Latitude), Longitude: orUnknown(cfg.Location.Longitude)},
	}, log)
	if err != nil {
		return err
	}
	log.Info("registered", "twin", id.TwinID, "node", id.NodeID, "capacity", measured.Total)

	eng := engine.New(st, b, engine.Options{Total: measured.Total, SystemReserve: measured.SystemReserve,
		CPUOvercommit: cfg.CPUOvercommit, Logger: log.With("part", "engine")})
	lookup, err := twins.Connect(ctx, cfg.Chain.GRPC, cfg.Chain.RPC, twins.Options{Logger: log.With("part", "twins")})
	if err != nil {
		return err
	}
	defer lookup.Close()
	a := &api.API{Engine: eng, Store: st, Checker: &chain.Checker{Client: client, NodeID: id.NodeID}, Backends: report, Version: Version,
		Network: networkAPI(cfg, b)}
	p, err := peer.New(ctx, key, id.TwinID, cfg.Relays, peer.Options{Lookup: lookup, Handlers: a.Handlers(), Logger: log.With("part", "rmb")})
	if err != nil {
		return fmt.Errorf("connect to the relays %v: %w", cfg.Relays, err)
	}
	watcher := &chain.Watcher{Client: client, NodeID: id.NodeID, Store: st, Engine: eng, BlockTime: cfg.Chain.BlockTime.Duration,
		ReconcilePeriod: cfg.Periods.Reconcile.Duration, Log: log.With("part", "watcher")}
	meter, err := openMeter(st, uplinkPath(cfg.UplinkNetNS))
	if err != nil {
		return err
	}
	// The gateway's traffic counts continue from the readings of the last report.
	if err := eng.SeedGatewayTraffic(meter.Last()); err != nil {
		return err
	}
	reporter := &chain.Reporter{Client: client, Broadcaster: bc, Store: st, Engine: eng, Period: cfg.Periods.Report.Duration,
		Log: log.With("part", "reporter"), Links: eng, Gateways: eng, Meter: meter, LinkRate: linkRate(cfg.LinkRateMbit)}

	bgCtx, stopBackground := context.WithCancel(ctx)
	var wg sync.WaitGroup
	goRun := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	goRun(func() { watcher.Run(bgCtx) })
	goRun(func() { reporter.Run(bgCtx) })
	goRun(func() {
		// The chain takes no uptime longer than the node's age on chain: count from the later of the
		// machine's boot and the node's registration.
		since := bootTime()
		if id.NodeCreated.After(since) {
			since = id.NodeCreated
		}
		chain.ReportUptime(bgCtx, bc, cfg.Periods.Uptime.Duration, since, log.With("part", "uptime"))
	})

	var srv *http.Server
	if cfg.MetricsAddr != "" {
		srv = &http.Server{Addr: cfg.MetricsAddr, Handler: metricsHandler(eng, watcher, reporter, p), ReadHeaderTimeout: 5 * time.Second}
		goRun(func() {
			if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server", "err", err)
			}
		})
	}
	log.Info("agent running", "relays", cfg.Relays, "metrics", cfg.MetricsAddr)
	err = eng.Run(ctx) // returns after ctx ends and the current job is done
	log.Info("shutting down: workloads stay running")
	p.Close()
	stopBackground()
	if srv != nil {
		srv.Close()
	}
	wg.Wait()
	return err
}

// openBackends opens the backends over the data directory; withVMs when the machine can run
// virtual machines.
func openBackends(cfg config.Config, log *slog.Logger, withVMs bool) (engine.Backends, error) {
	dir := cfg.DataDir
	c, err := container.New(dir)
	if err != nil {
		return engine.Backends{}, err
	}
	im, err := image.Open(dir)
	if err != nil {
		return engine.Backends{}, err
	}
	d, err := disk.New(dir)
	if err != nil {
		return engine.Backends{}, err
	}
	uplink := uplinkPath(cfg.UplinkNetNS)
	nets, err := network.New(network.Config{DataDir: dir, UplinkNS: uplink})
	if err != nil {
		return engine.Backends{}, err
	}
	b := engine.Backends{Containers: c, Images: im, Disks: d, Networks: nets}
	if withVMs {
		if b.VMs, err = vm.NewQEMU(vm.Config{DataDir: dir}); err != nil {
			return engine.Backends{}, err
		}
	}
	if cfg.PublicConfig.Enabled() {
		gateway, err := netip.ParseAddr(cfg.PublicConfig.Gateway)
		if err != nil {
			return engine.Backends{}, fmt.Errorf("public_config.gateway %q: %w", cfg.PublicConfig.Gateway, err)
		}
		if b.PublicIPs, err = publicip.New(publicip.Config{DataDir: dir, UplinkNS: uplink, Interface: cfg.PublicConfig.Interface, Gateway: gateway}); err != nil {
			return engine.Backends{}, err
		}
	}
	if cfg.Gateway.Enabled() {
		// The gateway listens where the node's public side is: the uplink namespace.
		b.Gateway, err = webgateway.New(webgateway.Config{Domain: cfg.Gateway.Domain, HTTPAddr: cfg.Gateway.HTTP, TLSAddr: cfg.Gateway.TLS,
			NetNS: uplink, Logger: log.With("part", "gateway")})
		if err != nil {
			return engine.Backends{}, err
		}
	}
	return b, nil
}

// uplinkPath is the uplink namespace's path: a name is one under /var/run/netns.
func uplinkPath(ns string) string {
	if ns == "" || filepath.IsAbs(ns) {
		return ns
	}
	return filepath.Join("/var/run/netns", ns)
}

// linkRate is a link rate in Mbit/s in bytes/s, as registered on chain.
func linkRate(mbit uint64) uint64 { return mbit * 1_000_000 / 8 }

// openMeter continues metering public traffic from the counters stored with the last report.
func openMeter(st *store.Store, uplink string) (*netusage.Meter, error) {
	raw, err := st.NetCounters()
	if err != nil {
		return nil, err
	}
	var last map[string]netusage.Counters
	if raw != nil {
		if err := json.Unmarshal(raw, &last); err != nil {
			return nil, fmt.Errorf("stored network counters: %w", err)
		}
	}
	return netusage.NewMeter(uplink, last), nil
}

func networkAPI(cfg config.Config, b engine.Backends) api.Network {
	n := api.Network{Networks: b.Networks, PublicIPs: b.PublicIPs}
	if b.PublicIPs != nil {
		n.Public = api.PublicConfig{Interface: cfg.PublicConfig.Interface, Bridge: b.PublicIPs.Bridge(), Gateway: cfg.PublicConfig.Gateway}
	}
	if b.Gateway != nil {
		n.Public.Domain = b.Gateway.Domain()
	}
	return n
}

// registerUntilDone retries registration (the chain may not be up yet) with a growing pause.
func registerUntilDone(ctx context.Context, c *chainclient.Client, b *chainclient.Broadcaster, r chain.Registration, log *slog.Logger) (chain.Identity, error) {
	wait := time.Second
	for {
		id, err := chain.Register(ctx, c, b, r)
		if err == nil {
			return id, nil
		}
		log.Warn("registration failed; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return chain.Identity{}, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Minute)
	}
}

// registered is the capacity the node offers on chain. The chain lets contracts reserve at most a
// node's registered capacity, so the CPUs the agent lets deployments overcommit are registered too.
func registered(total capacity.Resources, cpuOvercommit float64) capacity.Resources {
	total.CRU = uint64(float64(total.CRU) * cpuOvercommit)
	return total
}

// bootTime is when the machine booted (uptime is counted from it).
func bootTime() time.Time {
	raw, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return time.Now()
	}
	var secs float64
	if _, err := fmt.Sscanf(string(raw), "%f", &secs); err != nil {
		return time.Now()
	}
	return time.Now().Add(-time.Duration(secs * float64(time.Second)))
}

// orUnknown is a location field as registered: the chain takes "Unknown" for what is not known.
func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}
