package types

import tfgridtypes "github.com/tfgrid/tfgrid/x/tfgrid/types"

// ValidateReport checks one consumption report (reports[i]) against the node's capacity and block
// time; drift is x/tfgrid's timestamp_drift.
func ValidateReport(i int, r ConsumptionReport, capacity tfgridtypes.Resources, now int64, drift uint64) error {
	if r.ContractId == 0 {
		return ErrInvalidReport.Wrapf("reports[%d]: contract_id 0", i)
	}
	if r.Timestamp <= 0 || r.Timestamp > now+int64(drift) {
		return ErrInvalidReport.Wrapf("reports[%d] (contract %d): timestamp %d is not in (0, block time %d + drift %d]", i, r.ContractId, r.Timestamp, now, drift)
	}
	used := []struct {
		name       string
		used, have uint64
	}{{"cru", r.Cru, capacity.Cru}, {"sru", r.Sru, capacity.Sru}, {"hru", r.Hru, capacity.Hru}, {"mru", r.Mru, capacity.Mru}}
	for _, u := range used {
		if u.used > u.have {
			return ErrInvalidReport.Wrapf("reports[%d] (contract %d): %s %d exceeds the node's %d", i, r.ContractId, u.name, u.used, u.have)
		}
	}
	return nil
}
