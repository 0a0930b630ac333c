package publicip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"golang.org/x/sys/unix"

	"github.com/tfgrid/tfgrid/zos-agent/backend"
	"github.com/tfgrid/tfgrid/zos-agent/backend/internal/netnsutil"
)

// Table is the agent's nftables table (bridge family) in the uplink namespace; its chain sees
// every frame entering the public bridge from any port.
const (
	Table = backend.Prefix + "publicip"
	chain = "workloads"
)

var (
	etherTypeIPv4 = []byte{0x08, 0x00}
	etherTypeARP  = []byte{0x08, 0x06}
)

// filter manages the anti-spoofing rules: a frame from a workload's port must carry the
// workload's MAC, and be IPv4 from the workload's IP or ARP claiming the workload's IP.
type filter struct {
	uplinkNS string
}

func (f filter) conn() (*nftables.Conn, func(), error) {
	if f.uplinkNS == "" {
		c, err := nftables.New()
		return c, func() {}, err
	}
	ns, err := netnsutil.Fd(f.uplinkNS)
	if err != nil {
		return nil, nil, err
	}
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		ns.Close()
		return nil, nil, err
	}
	return c, func() { ns.Close() }, nil
}

func (f filter) table() *nftables.Table {
	return &nftables.Table{Name: Table, Family: nftables.TableFamilyBridge}
}

func (f filter) chain() *nftables.Chain {
	policy := nftables.ChainPolicyAccept
	return &nftables.Chain{
		Name: chain, Table: f.table(), Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityFilter, Policy: &policy,
	}
}

// install creates the table and chain (adding existing ones is a no-op in nftables).
func (f filter) install() error {
	c, done, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer done()
	c.AddTable(f.table())
	c.AddChain(f.chain())
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: table %s: %w", Table, err)
	}
	return nil
}

// uninstall removes the table and every rule in it.
func (f filter) uninstall() error {
	c, done, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer done()
	if t, err := c.ListTableOfFamily(Table, nftables.TableFamilyBridge); err != nil || t == nil {
		return nil
	}
	c.DelTable(f.table())
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete table %s: %w", Table, err)
	}
	return nil
}

// allow adds workload id's rules for its port: drop anything but its own MAC, IP and ARP.
func (f filter) allow(id, port string, mac net.HardwareAddr, ip netip.Addr) error {
	c, done, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer done()
	ip4 := ip.As4()
	tag := userdata.AppendString(nil, userdata.TypeComment, id)
	fromPort := matchIIFName(port)
	rules := [][]expr.Any{
		// another source MAC
		join(fromPort, loadPayload(expr.PayloadBaseLLHeader, 6, 6), cmp(expr.CmpOpNeq, mac)),
		// IPv4 from another address
		join(fromPort, loadPayload(expr.PayloadBaseLLHeader, 12, 2), cmp(expr.CmpOpEq, etherTypeIPv4),
			loadPayload(expr.PayloadBaseNetworkHeader, 12, 4), cmp(expr.CmpOpNeq, ip4[:])),
		// ARP claiming another address (sender protocol address)
		join(fromPort, loadPayload(expr.PayloadBaseLLHeader, 12, 2), cmp(expr.CmpOpEq, etherTypeARP),
			loadPayload(expr.PayloadBaseNetworkHeader, 14, 4), cmp(expr.CmpOpNeq, ip4[:])),
		// any other protocol (the workload has IPv4 only)
		join(fromPort, loadPayload(expr.PayloadBaseLLHeader, 12, 2), cmp(expr.CmpOpNeq, etherTypeIPv4), cmp(expr.CmpOpNeq, etherTypeARP)),
	}
	for _, exprs := range rules {
		c.AddRule(&nftables.Rule{Table: f.table(), Chain: f.chain(), Exprs: append(exprs, &expr.Verdict{Kind: expr.VerdictDrop}), UserData: tag})
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: rules of workload %s: %w", id, err)
	}
	return nil
}

// revoke deletes workload id's rules; none left is not an error.
func (f filter) revoke(id string) error {
	c, done, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	defer done()
	rules, err := ownedRules(c, f, id)
	if err != nil || len(rules) == 0 {
		return err
	}
	for _, r := range rules {
		if err := c.DelRule(r); err != nil {
			return fmt.Errorf("nftables: delete rule of workload %s: %w", id, err)
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("nftables: delete rules of workload %s: %w", id, err)
	}
	return nil
}

// rulesOf counts workload id's rules.
func (f filter) rulesOf(id string) (int, error) {
	c, done, err := f.conn()
	if err != nil {
		return 0, fmt.Errorf("nftables: %w", err)
	}
	defer done()
	rules, err := ownedRules(c, f, id)
	return len(rules), err
}

// ownedRules are the rules tagged with workload id; a missing table or chain has none.
func ownedRules(c *nftables.Conn, f filter, id string) ([]*nftables.Rule, error) {
	rules, err := c.GetRules(f.table(), f.chain())
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("nftables: list rules: %w", err)
	}
	var owned []*nftables.Rule
	for _, r := range rules {
		if owner, ok := userdata.GetString(r.UserData, userdata.TypeComment); ok && owner == id {
			owned = append(owned, r)
		}
	}
	return owned, nil
}

func matchIIFName(name string) []expr.Any {
	padded := make([]byte, unix.IFNAMSIZ)
	copy(padded, name)
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: 1}, cmp(expr.CmpOpEq, padded)}
}

func loadPayload(base expr.PayloadBase, offset, length uint32) expr.Any {
	return &expr.Payload{DestRegister: 1, Base: base, Offset: offset, Len: length}
}

func cmp(op expr.CmpOp, data []byte) expr.Any {
	return &expr.Cmp{Op: op, Register: 1, Data: data}
}

func join(parts ...any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		switch v := p.(type) {
		case []expr.Any:
			out = append(out, v...)
		case expr.Any:
			out = append(out, v)
		}
	}
	return out
}
