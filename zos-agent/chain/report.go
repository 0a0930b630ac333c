package chain

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/tfgrid/tfgrid/chainclient"
	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	"github.com/tfgrid/tfgrid/zos-agent/backend/netusage"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
	"github.com/tfgrid/tfgrid/zos-agent/engine"
	"github.com/tfgrid/tfgrid/zos-agent/store"
)

// Reporter measures every period what each live deployment holds and sends it as consumption
// reports. A period's batch is stored in the outbox together with the period's end before
// anything is sent, so a crash or a chain outage loses nothing; a batch leaves the outbox when
// the chain accepted it, or refused it for good (a batch sent again after a crash is refused as
// not newer than the contract's last report, so none is ever counted twice).
type Reporter struct {
	Client      *chainclient.Client
	Broadcaster *chainclient.Broadcaster
	Store       *store.Store
	Engine      Deployments
	Period      time.Duration
	Log         *slog.Logger
	// Links, Gateways and Meter measure nru: the bytes through each contract's public links and
	// through the gateway for its gateway workloads (nil: none).
	Links    PublicLinks
	Gateways GatewayTraffic
	Meter    *netusage.Meter
	// LinkRate is the node's registered link rate in bytes/s: the chain refuses a report whose
	// nru exceeds window × link rate.
	LinkRate uint64

	lastAccepted atomic.Int64
}

// PublicLinks lists the running public links by contract.
type PublicLinks interface {
	PublicLinks() (map[uint64][]engine.PublicLink, error)
}

// GatewayTraffic lists the running gateway workloads' traffic counts by contract.
type GatewayTraffic interface {
	GatewayTraffic() (map[uint64][]engine.GatewayUsage, error)
}

// Lag is how long ago the chain last accepted a batch (0: nothing waits in the outbox).
func (r *Reporter) Lag() time.Duration {
	if out, err := r.Store.Outbox(); err == nil && len(out) == 0 {
		return 0
	}
	return time.Since(time.Unix(r.lastAccepted.Load(), 0))
}

// Run reports every period until ctx ends.
func (r *Reporter) Run(ctx context.Context) {
	r.lastAccepted.Store(time.Now().Unix())
	t := time.NewTicker(r.Period)
	defer t.Stop()
	for {
		r.flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := r.measure(ctx, time.Now()); err != nil {
				r.Log.Error("measure consumption", "err", err)
			}
		}
	}
}

// measure puts the reports of the period ending at now into the outbox. The first period only
// starts the count.
func (r *Reporter) measure(ctx context.Context, now time.Time) error {
	last, err := r.Store.LastReport()
	if err != nil {
		return err
	}
	if last == 0 || now.Unix() <= last {
		return r.Store.AddBatch(nil, now.Unix())
	}
	allocs, err := r.Engine.Allocations()
	if err != nil {
		return err
	}
	traffic, err := r.traffic()
	if err != nil {
		return err
	}
	var reports []store.Report
	for contract, used := range allocs {
		window := uint64(now.Unix() - last)
		if res, err := r.Client.Contracts.Contract(ctx, &sctypes.QueryContractRequest{Id: contract}); err == nil {
			used, window = boundReport(res.Contract, used, window, now.Unix())
		} // else: the chain clamps and bounds the report itself
		if window == 0 {
			continue
		}
		reports = append(reports, store.Report{Contract: contract, Timestamp: now.Unix(), Window: window,
			CRU: used.CRU, MRU: used.MRU, SRU: used.SRU, HRU: used.HRU, NRU: boundNRU(traffic[contract], window, r.LinkRate)})
	}
	if r.Meter == nil {
		return r.Store.AddBatch(reports, now.Unix())
	}
	counters, err := json.Marshal(r.Meter.Last())
	if err != nil {
		return err
	}
	return r.Store.AddMeteredBatch(reports, now.Unix(), counters)
}

// traffic samples every running public link and gateway workload: bytes since the previous
// sample, by contract. A link that cannot be read counts nothing this period (its counters stay
// for the next). Readings of workloads that are gone are forgotten.
func (r *Reporter) traffic() (map[uint64]uint64, error) {
	out := map[uint64]uint64{}
	if r.Meter == nil {
		return out, nil
	}
	live := map[string]bool{}
	if r.Gateways != nil {
		gateways, err := r.Gateways.GatewayTraffic()
		if err != nil {
			return nil, err
		}
		for contract, us := range gateways {
			for _, u := range us {
				live[u.ID] = true
				out[contract] += r.Meter.Observe(u.ID, u.Traffic)
			}
		}
	}
	if r.Links == nil {
		r.forgetGone(live)
		return out, nil
	}
	links, err := r.Links.PublicLinks()
	if err != nil {
		return nil, err
	}
	for contract, ls := range links {
		for _, l := range ls {
			live[l.ID] = true
			n, err := r.Meter.Sample(l.ID, l.HostLink)
			if err != nil {
				r.Log.Warn("network usage not measured", "contract", contract, "err", err)
				continue
			}
			out[contract] += n
		}
	}
	r.forgetGone(live)
	return out, nil
}

// forgetGone drops the readings of workloads no longer measured.
func (r *Reporter) forgetGone(live map[string]bool) {
	for id := range r.Meter.Last() {
		if !live[id] {
			r.Meter.Forget(id)
		}
	}
}

// boundNRU keeps a contract's traffic within what its window at the node's link rate could carry
// (0: no rate known, the traffic as measured); the chain refuses a report beyond it.
func boundNRU(bytes, window, linkRate uint64) uint64 {
	if linkRate == 0 {
		return bytes
	}
	if hi, most := bits.Mul64(window, linkRate); hi == 0 && bytes > most {
		return most
	}
	return bytes
}

// boundReport keeps a report within what the chain takes: usage at most the contract's reservation,
// and a window no longer than the contract's age (a contract created during the period).
func boundReport(c sctypes.Contract, used deployment.Capacity, window uint64, now int64) (deployment.Capacity, uint64) {
	if age := now - c.CreatedAt; age < int64(window) {
		window = uint64(max(age, 0))
	}
	reserved, ok := Reservation(c)
	if !ok {
		return used, window
	}
	return deployment.Capacity{CRU: min(used.CRU, reserved.CRU), MRU: min(used.MRU, reserved.MRU),
		SRU: min(used.SRU, reserved.SRU), HRU: min(used.HRU, reserved.HRU)}, window
}

// flush sends the outbox, oldest first, and stops at the first batch the chain could not be
// asked about (it is tried again next period).
func (r *Reporter) flush(ctx context.Context) {
	batches, err := r.Store.Outbox()
	if err != nil {
		r.Log.Error("read report outbox", "err", err)
		return
	}
	for _, b := range batches {
		msg := &billingtypes.MsgReportConsumption{Creator: r.Broadcaster.Address()}
		for _, rep := range b.Reports {
			msg.Reports = append(msg.Reports, billingtypes.ConsumptionReport{ContractId: rep.Contract, Timestamp: rep.Timestamp,
				Window: rep.Window, Cru: rep.CRU, Mru: rep.MRU, Sru: rep.SRU, Hru: rep.HRU, Nru: rep.NRU})
		}
		_, err := r.Broadcaster.Send(ctx, msg)
		var refused *chainclient.TxError
		switch {
		case errors.As(err, &refused):
			r.Log.Error("consumption reports refused by the chain; dropped", "batch", b.ID, "err", err)
		case err != nil:
			r.Log.Warn("consumption reports not sent; retried next period", "batch", b.ID, "err", err)
			return
		default:
			r.lastAccepted.Store(time.Now().Unix())
			r.Log.Info("consumption reported", "batch", b.ID, "contracts", len(b.Reports))
		}
		if err := r.Store.Sent(b.ID); err != nil {
			r.Log.Error("report outbox", "err", err)
			return
		}
	}
}
