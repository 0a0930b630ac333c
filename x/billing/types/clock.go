package types

// NewNodeClock starts a node's clock at now from what the registry says of the node: online until
// its last uptime report + offlineAfter, powered if it is up.
func NewNodeClock(nodeID uint64, now, lastReport int64, offlineAfter uint64, powered bool) NodeClock {
	return NodeClock{NodeId: nodeID, UpdatedAt: now, OnlineUntil: lastReport + int64(offlineAfter), Powered: powered}
}

// OnlineAt is the node's online seconds up to t (t before updated_at counts as updated_at).
func (c NodeClock) OnlineAt(t int64) uint64 {
	return c.OnlineSeconds + SecondsBefore(c.UpdatedAt, t, c.OnlineUntil)
}

// PoweredAt is the node's powered-up seconds up to t (t before updated_at counts as updated_at).
func (c NodeClock) PoweredAt(t int64) uint64 {
	if !c.Powered || t <= c.UpdatedAt {
		return c.PoweredSeconds
	}
	return c.PoweredSeconds + uint64(t-c.UpdatedAt)
}

// AdvancedTo is the clock with its counts made final up to t; a t before updated_at changes nothing.
func (c NodeClock) AdvancedTo(t int64) NodeClock {
	if t <= c.UpdatedAt {
		return c
	}
	c.OnlineSeconds, c.PoweredSeconds, c.UpdatedAt = c.OnlineAt(t), c.PoweredAt(t), t
	return c
}

// Reported is the clock after an uptime report at t: online until t + offlineAfter from now on.
func (c NodeClock) Reported(t int64, offlineAfter uint64) NodeClock {
	c = c.AdvancedTo(t)
	c.OnlineUntil = t + int64(offlineAfter)
	return c
}

// PoweredChanged is the clock after the node's power state becomes up (powered) or not at t.
func (c NodeClock) PoweredChanged(t int64, powered bool) NodeClock {
	c = c.AdvancedTo(t)
	c.Powered = powered
	return c
}

// Elapsed is how far a clock moved from a reading taken earlier, never more than the wall time
// between them: a reading from before a genesis import or a reset clock counts as no time.
func Elapsed(now, then, wall uint64) uint64 {
	if now <= then {
		return 0
	}
	return min(now-then, wall)
}
