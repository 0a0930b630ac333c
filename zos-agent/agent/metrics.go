package agent

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/zos-agent/chain"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
)

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// metricsHandler serves /metrics (Prometheus) and /healthz (200 while the chain and a relay are
// reachable).
func metricsHandler(eng *engine.Engine, w *chain.Watcher, r *chain.Reporter, p *peer.Peer) http.Handler {
	reg := prometheus.NewRegistry()
	states := []deployment.ResultState{deployment.StateInit, deployment.StateOk, deployment.StateError,
		deployment.StatePaused, deployment.StateDeleted, deployment.StateUnchanged}
	for _, s := range states {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zos_agent_workloads", Help: "Workloads by state.",
			ConstLabels: prometheus.Labels{"state": string(s)}}, func() float64 {
			st, err := eng.Statistics()
			if err != nil {
				return -1
			}
			return float64(st.Workloads[s])
		}))
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zos_agent_deployments", Help: "Deployments holding workloads."}, func() float64 {
			st, err := eng.Statistics()
			if err != nil {
				return -1
			}
			return float64(st.Users.Deployments)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zos_agent_queue_depth", Help: "Engine jobs waiting."},
			func() float64 { return float64(eng.QueueDepth()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zos_agent_chain_connected", Help: "1 while blocks arrive."},
			func() float64 { return boolGauge(w.Healthy()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zos_agent_relay_connected", Help: "Relays connected."},
			func() float64 { return float64(p.Connected()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zos_agent_report_lag_seconds", Help: "Age of the oldest unsent consumption report batch (0: none waits)."},
			func() float64 { return r.Lag().Seconds() }),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) {
		switch {
		case !w.Healthy():
			http.Error(rw, "chain: no block lately", http.StatusServiceUnavailable)
		case p.Connected() == 0:
			http.Error(rw, "relay: not connected", http.StatusServiceUnavailable)
		default:
			_, _ = rw.Write([]byte("ok\n"))
		}
	})
	return mux
}
