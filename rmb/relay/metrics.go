package relay

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	received       *prometheus.CounterVec // source: ws | federation
	receivedBytes  prometheus.Counter
	delivered      *prometheus.CounterVec // path: direct | queue
	deliveredBytes prometheus.Counter
	queued         prometheus.Counter
	errors         *prometheus.CounterVec // code
	refusedTokens  prometheus.Counter
	connections    prometheus.Gauge
	evictions      prometheus.Counter
	forwarded      *prometheus.CounterVec // result: ok | rejected | failed
	fedReceived    *prometheus.CounterVec // result: accepted | unauthorized | bad
	expired        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rmb_relay_envelopes_received_total",
			Help: "Envelopes received, by origin (ws: a connected peer, federation: another relay)."}, []string{"origin"}),
		receivedBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "rmb_relay_received_bytes_total",
			Help: "Bytes of envelopes received."}),
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rmb_relay_envelopes_delivered_total",
			Help: "Envelopes written to a destination connection, by path (direct or from the queue)."}, []string{"path"}),
		deliveredBytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "rmb_relay_delivered_bytes_total",
			Help: "Bytes of envelopes delivered."}),
		queued: prometheus.NewCounter(prometheus.CounterOpts{Name: "rmb_relay_envelopes_queued_total",
			Help: "Envelopes kept in the store for a destination that was not connected."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rmb_relay_error_envelopes_total",
			Help: "Error envelopes the relay generated, by code."}, []string{"code"}),
		refusedTokens: prometheus.NewCounter(prometheus.CounterOpts{Name: "rmb_relay_refused_connections_total",
			Help: "Websocket connections refused (bad or missing token)."}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rmb_relay_connections",
			Help: "Live peer connections."}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{Name: "rmb_relay_session_evictions_total",
			Help: "Connections closed because the same (twin, session) connected again."}),
		forwarded: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rmb_relay_federation_forwarded_total",
			Help: "Envelopes forwarded to other relays, by result."}, []string{"result"}),
		fedReceived: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rmb_relay_federation_received_total",
			Help: "Federation posts received from other relays, by result."}, []string{"result"}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{Name: "rmb_relay_envelopes_expired_total",
			Help: "Kept envelopes dropped because they expired before delivery."}),
	}
	reg.MustRegister(m.received, m.receivedBytes, m.delivered, m.deliveredBytes, m.queued, m.errors,
		m.refusedTokens, m.connections, m.evictions, m.forwarded, m.fedReceived, m.expired)
	return m
}
