package deployment

import "math/bits"

// MiB and GiB are byte units. Memory and disk sizes are in bytes.
const (
	MiB uint64 = 1 << 20
	GiB uint64 = 1 << 30
)

// Capacity is what a deployment needs: the resources the node contract must reserve (cru in
// cores, mru/sru/hru in bytes) and the number of public IPv4 addresses it must reserve.
type Capacity struct {
	CRU  uint64 `json:"cru"`
	MRU  uint64 `json:"mru"`
	SRU  uint64 `json:"sru"`
	HRU  uint64 `json:"hru"`
	IPv4 uint64 `json:"ipv4"`
}

// Fits reports whether c needs no more than reserved in every resource.
func (c Capacity) Fits(reserved Capacity) bool {
	return c.CRU <= reserved.CRU && c.MRU <= reserved.MRU && c.SRU <= reserved.SRU &&
		c.HRU <= reserved.HRU && c.IPv4 <= reserved.IPv4
}

// plus is c + o, false on overflow.
func (c Capacity) plus(o Capacity) (Capacity, bool) {
	var sum Capacity
	var carry, overflow uint64
	sum.CRU, carry = bits.Add64(c.CRU, o.CRU, 0)
	overflow |= carry
	sum.MRU, carry = bits.Add64(c.MRU, o.MRU, 0)
	overflow |= carry
	sum.SRU, carry = bits.Add64(c.SRU, o.SRU, 0)
	overflow |= carry
	sum.HRU, carry = bits.Add64(c.HRU, o.HRU, 0)
	overflow |= carry
	sum.IPv4, carry = bits.Add64(c.IPv4, o.IPv4, 0)
	overflow |= carry
	return sum, overflow == 0
}

// Capacity is the total the deployment's workloads need, by the Zero-OS accounting rules
// (README.md, "Capacity"). It fails on a workload whose data does not decode and on a total
// beyond 2^64.
func (d *Deployment) Capacity() (Capacity, error) {
	var total Capacity
	for i := range d.Workloads {
		data, err := d.Workloads[i].DecodeData()
		if err != nil {
			return Capacity{}, err
		}
		var ok bool
		if total, ok = total.plus(data.capacity()); !ok {
			return Capacity{}, workloadErr(d.Workloads[i].Name, "data", nil, ErrCapacityOverflow,
				"brings the deployment's total capacity beyond 2^64")
		}
	}
	return total, nil
}

// minRootSize is the smallest root filesystem Zero-OS gives a machine: 500 MiB, or 2 GiB for a
// machine whose cores × memory reach 8 GiB.
func minRootSize(cpu uint8, memory uint64) uint64 {
	if hi, lo := bits.Mul64(uint64(cpu), memory); hi == 0 && lo < 8*GiB {
		return 500 * MiB
	}
	return 2 * GiB
}
