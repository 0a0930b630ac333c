package types

import (
	"math/bits"

	tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// ValidateReport checks one consumption report (reports[i]) against the reporting node and block time;
// drift is x/tfgrid's timestamp_drift. The node's usage claims are bounded by its capacity, its network
// use by the window and its declared link rate.
func ValidateReport(i int, r ConsumptionReport, node tfgridtypes.Node, now int64, drift uint64) error {
	if r.ContractId == 0 {
		return ErrInvalidReport.Wrapf("reports[%d]: contract_id 0", i)
	}
	if r.Timestamp <= 0 || r.Timestamp > now+int64(drift) {
		return ErrInvalidReport.Wrapf("reports[%d] (contract %d): timestamp %d is not in (0, block time %d + drift %d]", i, r.ContractId, r.Timestamp, now, drift)
	}
	if r.Window == 0 {
		return ErrInvalidReport.Wrapf("reports[%d] (contract %d): window 0 s, want > 0", i, r.ContractId)
	}
	if hi, most := bits.Mul64(r.Window, node.LinkRate); hi == 0 && r.Nru > most {
		return ErrInvalidReport.Wrapf("contract %d: nru %d exceeds window %d s × link rate %d B/s", r.ContractId, r.Nru, r.Window, node.LinkRate)
	}
	for _, u := range r.Claimed().fields(node.Resources) {
		if u.A > u.B {
			return ErrInvalidReport.Wrapf("reports[%d] (contract %d): %s %d exceeds the node's %d", i, r.ContractId, u.Name, u.A, u.B)
		}
	}
	return nil
}

// CheckReportTime places a report in its contract's life: not before the contract was created, after
// the previous report, and with a window no longer than the time since that report (or the creation),
// so the windows of all reports never add up to more than the contract's age.
func CheckReportTime(r ConsumptionReport, createdAt int64, previous *ConsumptionReport) error {
	if r.Timestamp < createdAt {
		return ErrInvalidReport.Wrapf("contract %d: timestamp %d is before its creation at %d", r.ContractId, r.Timestamp, createdAt)
	}
	since := createdAt
	if previous != nil {
		if r.Timestamp <= previous.Timestamp {
			return ErrInvalidReport.Wrapf("contract %d: timestamp %d is not after the previous report's %d", r.ContractId, r.Timestamp, previous.Timestamp)
		}
		since = previous.Timestamp
	}
	if elapsed := uint64(r.Timestamp - since); r.Window > elapsed {
		return ErrInvalidReport.Wrapf("contract %d: window %d s exceeds the %d s since %d", r.ContractId, r.Window, elapsed, since)
	}
	return nil
}

// Clamp is one resource a report claimed above the contract's reservation.
type Clamp struct {
	Field             string
	Reported, Charged uint64
}

// ClampUsage is the usage a contract is charged for: each resource at most what the contract reserves,
// with the resources it had to cut.
func ClampUsage(claimed Usage, reserved tfgridtypes.Resources) (Usage, []Clamp) {
	var clamps []Clamp
	fields := claimed.fields(reserved)
	charged := make([]uint64, len(fields))
	for i, f := range fields {
		charged[i] = min(f.A, f.B)
		if f.A > f.B {
			clamps = append(clamps, Clamp{Field: f.Name, Reported: f.A, Charged: f.B})
		}
	}
	return Usage{Cru: charged[0], Sru: charged[1], Hru: charged[2], Mru: charged[3]}, clamps
}

// Claimed is the usage a report claims.
func (r ConsumptionReport) Claimed() Usage {
	return Usage{Cru: r.Cru, Sru: r.Sru, Hru: r.Hru, Mru: r.Mru}
}

// fields pairs the usage with a capacity, resource by resource (cru, sru, hru, mru).
func (u Usage) fields(capacity tfgridtypes.Resources) []tfgridtypes.ResourceField {
	return tfgridtypes.Resources{Cru: u.Cru, Sru: u.Sru, Hru: u.Hru, Mru: u.Mru}.Fields(capacity)
}

// Within reports whether the usage stays inside a capacity, resource by resource.
func (u Usage) Within(capacity tfgridtypes.Resources) bool {
	for _, f := range u.fields(capacity) {
		if f.A > f.B {
			return false
		}
	}
	return true
}
