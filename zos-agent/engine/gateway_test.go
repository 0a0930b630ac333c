package engine_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/backend/backendtest"
	"github.com/tfgrid/tfgrid/zos-agent/backend/gateway"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
	"github.com/tfgrid/tfgrid/zos-agent/capacity"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

const gwDomain = "gw.example.test"

// gatewayEngine is an engine whose only backend is a gateway on loopback.
type gatewayEngine struct {
	dir   string
	st    *store.Store
	proxy *gateway.Proxy
	e     *engine.Engine
	stop  func()
}

func startGatewayEngine(t *testing.T, dir string, seed map[string]netusage.Counters) *gatewayEngine {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "agent.db"))
	require.NoError(t, err)
	p, err := gateway.New(gateway.Config{Domain: gwDomain, HTTPAddr: "127.0.0.1:0"})
	require.NoError(t, err)
	e := engine.New(st, engine.Backends{Gateway: p}, engine.Options{Total: capacity.Resources{CRU: 4, MRU: 1 << 30},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	require.NoError(t, e.SeedGatewayTraffic(seed))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	g := &gatewayEngine{dir: dir, st: st, proxy: p, e: e}
	var once bool
	g.stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		<-done
		p.Close()
		st.Close()
	}
	t.Cleanup(g.stop)
	return g
}

func (g *gatewayEngine) get(t *testing.T, name string) string {
	t.Helper()
	out, err := backendtest.Exchange("", netip.Addr{}, netip.MustParseAddrPort(g.proxy.HTTPAddr().String()),
		"GET / HTTP/1.1\r\nHost: "+name+"."+gwDomain+"\r\nConnection: close\r\n\r\n", 3*time.Second)
	require.NoError(t, err)
	return out
}

func gatewayDeployment(contract uint64, names map[string]string) deployment.Deployment {
	d := deployment.Deployment{TwinID: 7, ContractID: contract}
	for wl, name := range names {
		d.Workloads = append(d.Workloads, workload(wl, deployment.TypeGatewayNameProxy, 0,
			deployment.GatewayNameProxy{Name: name, Backends: []string{backendURL}}))
	}
	return d
}

var backendURL string

func waitWorkload(t *testing.T, e *engine.Engine, contract uint64, name string, want deployment.ResultState) deployment.Workload {
	t.Helper()
	var w deployment.Workload
	require.Eventually(t, func() bool {
		rec, err := e.Get(contract)
		if err != nil {
			return false
		}
		for _, x := range rec.Deployment.Workloads {
			if x.Name == name {
				w = x
			}
		}
		return w.Result.State == want
	}, 10*time.Second, 20*time.Millisecond, "contract %d workload %s: %+v, want %s", contract, name, w.Result, want)
	return w
}

func TestGatewayWorkloads(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "backend for "+r.Host)
	}))
	t.Cleanup(backend.Close)
	backendURL = backend.URL
	dir := t.TempDir()
	g := startGatewayEngine(t, dir, nil)
	outer := t // engines started in subtests live for the whole test

	d := gatewayDeployment(1, map[string]string{"web": "App"})
	err := g.e.Deploy(d, engine.Grant{})
	require.ErrorContains(t, err, `name "App": no name contract of twin 7 checked for it`)
	require.NoError(t, g.e.Deploy(d, engine.Grant{Names: map[string]uint64{"app": 12}}))
	w := waitWorkload(t, g.e, 1, "web", deployment.StateOk)
	var res engine.GatewayResult
	require.NoError(t, json.Unmarshal(w.Result.Data, &res))
	require.Equal(t, engine.GatewayResult{FQDN: "app." + gwDomain, NameContract: 12}, res)
	require.Contains(t, g.get(t, "app"), "backend for app."+gwDomain)

	t.Run("a name served on the node is refused to another deployment", func(t *testing.T) {
		err := g.e.Deploy(gatewayDeployment(2, map[string]string{"gw": "app"}), engine.Grant{Names: map[string]uint64{"app": 12}})
		require.ErrorIs(t, err, gateway.ErrHostTaken)
		require.ErrorContains(t, err, "by contract 1")
		err = g.e.Deploy(gatewayDeployment(3, map[string]string{"a": "twice", "b": "TWICE"}), engine.Grant{Names: map[string]uint64{"twice": 13}})
		require.ErrorIs(t, err, gateway.ErrHostTaken)
		_, err = g.e.Get(3)
		require.ErrorIs(t, err, store.ErrNotFound, "a refusal stores nothing")
	})

	t.Run("name contract in grace: suspended, its deployment's pause and resume leave it so", func(t *testing.T) {
		require.NoError(t, g.e.SuspendName(12))
		w := waitWorkload(t, g.e, 1, "web", deployment.StatePaused)
		require.Contains(t, w.Result.Message, "name contract 12")
		require.Contains(t, g.get(t, "app"), "404 Not Found")
		uses, err := g.e.NameContracts()
		require.NoError(t, err)
		require.Equal(t, map[uint64]engine.NameUse{12: {Suspended: true}}, uses)
		rec, err := g.e.Get(1)
		require.NoError(t, err)
		require.True(t, engine.PausedForName(rec, "web"))

		require.NoError(t, g.e.Resume(1))
		require.NoError(t, g.e.RestoreName(999)) // another name contract: a no-op, and a marker the jobs ran
		require.Eventually(t, func() bool { return g.e.QueueDepth() == 0 }, 5*time.Second, 10*time.Millisecond)
		waitWorkload(t, g.e, 1, "web", deployment.StatePaused)
		require.Contains(t, g.get(t, "app"), "404 Not Found", "the deployment's resume does not serve a name in grace")

		require.NoError(t, g.e.RestoreName(12))
		waitWorkload(t, g.e, 1, "web", deployment.StateOk)
		require.Contains(t, g.get(t, "app"), "backend for app")
	})

	t.Run("the deployment's contract in grace", func(t *testing.T) {
		require.NoError(t, g.e.Pause(1))
		waitWorkload(t, g.e, 1, "web", deployment.StatePaused)
		require.Contains(t, g.get(t, "app"), "404 Not Found")
		require.NoError(t, g.e.Resume(1))
		waitWorkload(t, g.e, 1, "web", deployment.StateOk)
		require.Contains(t, g.get(t, "app"), "backend for app")
	})

	t.Run("traffic counts survive a restart", func(t *testing.T) {
		usage, err := g.e.GatewayTraffic()
		require.NoError(t, err)
		require.Len(t, usage[1], 1)
		before := usage[1][0]
		require.Equal(t, engine.WorkloadID(1, "web"), before.ID)
		require.NotZero(t, before.Traffic.RxBytes)
		require.NotZero(t, before.Traffic.TxBytes)

		g.stop()
		g = startGatewayEngine(outer, dir, map[string]netusage.Counters{before.ID: before.Traffic, "other": {RxBytes: 1}})
		require.Eventually(t, func() bool { return strings.Contains(g.get(t, "app"), "backend for app") }, 5*time.Second, 50*time.Millisecond,
			"the route is back after a restart")
		usage, err = g.e.GatewayTraffic()
		require.NoError(t, err)
		require.Greater(t, usage[1][0].Traffic.RxBytes, before.Traffic.RxBytes, "the count continues from the seed")
		_, seeded := g.proxy.Traffic("other")
		require.False(t, seeded, "only gateway workloads are seeded")
	})

	t.Run("name contract gone: the gateway is deleted", func(t *testing.T) {
		require.NoError(t, g.e.RevokeName(12, "name contract 12 canceled"))
		w := waitWorkload(t, g.e, 1, "web", deployment.StateDeleted)
		require.Equal(t, "name contract 12 canceled", w.Result.Message)
		require.Contains(t, g.get(t, "app"), "404 Not Found")
		_, counted := g.proxy.Traffic(engine.WorkloadID(1, "web"))
		require.False(t, counted)
		uses, err := g.e.NameContracts()
		require.NoError(t, err)
		require.Empty(t, uses)
		require.NoError(t, g.e.Deploy(gatewayDeployment(4, map[string]string{"gw": "app"}), engine.Grant{Names: map[string]uint64{"app": 14}}),
			"the name is free again on the node")
		waitWorkload(t, g.e, 4, "gw", deployment.StateOk)
	})

	t.Run("a node without a gateway refuses the type", func(t *testing.T) {
		st, err := store.Open(filepath.Join(t.TempDir(), "agent.db"))
		require.NoError(t, err)
		defer st.Close()
		e := engine.New(st, engine.Backends{}, engine.Options{Total: capacity.Resources{CRU: 4, MRU: 1 << 30}})
		err = e.Deploy(gatewayDeployment(5, map[string]string{"gw": "x"}), engine.Grant{Names: map[string]uint64{"x": 1}})
		require.ErrorIs(t, err, engine.ErrUnsupported)
		require.Contains(t, e.UnsupportedTypes(), deployment.TypeGatewayNameProxy)
	})
}
