package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	sdkmath "cosmossdk.io/math"
	banktypes "github.com/cosmos/cosmos-sdk/x/bank/types"

	billingtypes "github.com/tfgrid/tfgrid/x/billing/types"
	sctypes "github.com/tfgrid/tfgrid/x/smartcontract/types"
	tftypes "github.com/tfgrid/tfgrid/x/tfgrid/types"
	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

const denom = "utft"

// Plan is a checked, signed deployment and what its contract will reserve and cost, before anything
// is sent.
type Plan struct {
	Doc        *deployment.Document // owner filled in and signed, contract_id 0
	Node       tftypes.Node
	Reserve    deployment.Capacity
	PublicIPs  uint32
	HourlyUTFT sdkmath.Int
	Deposit    sdkmath.Int
	Data       []byte // the file sealed to the owner's e2e key
}

// Sign adds this twin's signature to a deployment file (replacing its earlier one, so signing twice
// changes nothing). A file without an owner gets this twin as its owner: the owner signs first.
func (c *Client) Sign(file []byte) ([]byte, error) {
	doc, err := deployment.Parse(file)
	if err != nil {
		return nil, fmt.Errorf("deployment file: %w", err)
	}
	if doc.Deployment.TwinID == 0 || doc.Deployment.TwinID == c.Twin.Id { // the owner signs first
		doc, err = parseOwnFile(file, c.Twin.Id, c.cfg.Key)
	} else if name, ok := keylessNetwork(&doc.Deployment); ok {
		return nil, fmt.Errorf("deployment file: network %q has no wireguard_private_key yet: the owner, twin %d, signs the file first (which fills it)",
			name, doc.Deployment.TwinID)
	} else {
		doc, err = validated(doc)
	}
	if err != nil {
		return nil, err
	}
	signed, err := deployment.SignDocument(doc, c.Twin.Id, c.cfg.Key)
	if err != nil {
		return nil, err
	}
	return signed.Bytes(), nil
}

// Prepare checks a deployment file for node as the node will and prices it. publicIPs < 0 takes
// the count of the file's IPv4 workloads.
func (c *Client) Prepare(ctx context.Context, file []byte, node uint64, publicIPs int) (*Plan, error) {
	doc, err := parseOwnFile(file, c.Twin.Id, c.cfg.Key)
	if err != nil {
		return nil, err
	}
	if doc, err = c.signChecked(ctx, doc); err != nil {
		return nil, err
	}
	p := &Plan{Doc: doc}
	if p.Reserve, err = doc.Deployment.Capacity(); err != nil {
		return nil, err
	}
	if publicIPs < 0 {
		n, err := publicIPsOf(&doc.Deployment)
		if err != nil {
			return nil, err
		}
		publicIPs = int(n)
	}
	p.PublicIPs = uint32(publicIPs)
	if p.Node, err = c.nodeTwin(ctx, node); err != nil {
		return nil, err
	}
	if err := c.checkPublicIPs(ctx, p.Node, p.PublicIPs); err != nil {
		return nil, err
	}
	if p.HourlyUTFT, err = c.hourly(ctx, p.Node, p.Reserve, p.PublicIPs); err != nil {
		return nil, err
	}
	params, err := c.Chain.Contracts.Params(ctx, &sctypes.QueryParamsRequest{})
	if err != nil {
		return nil, fmt.Errorf("contract params: %w", err)
	}
	p.Deposit = params.Params.ContractDeposit
	if err := c.checkFunds(ctx, p.Deposit); err != nil {
		return nil, err
	}
	if p.Data, err = c.seal(file, params.Params.MaxDeploymentDataBytes); err != nil {
		return nil, err
	}
	return p, nil
}

// signChecked signs doc as this twin and checks its signature requirement as the node will.
func (c *Client) signChecked(ctx context.Context, doc *deployment.Document) (*deployment.Document, error) {
	doc, err := deployment.SignDocument(doc, c.Twin.Id, c.cfg.Key)
	if err != nil {
		return nil, err
	}
	if missing := missingSigners(&doc.Deployment); len(missing) > 0 {
		return nil, fmt.Errorf("deployment file: signature_requirement not met: missing signatures of twins %v "+
			"(each signs with: tfgridd deployment sign FILE --from KEY)", missing)
	}
	err = deployment.Verify(doc, func(twin uint64) ([]byte, error) {
		res, err := c.Chain.Tfgrid.Twin(ctx, &tftypes.QueryTwinRequest{Id: twin})
		if err != nil {
			return nil, err
		}
		return res.Twin.Pubkey, nil
	})
	if err != nil {
		return nil, fmt.Errorf("deployment file: %w", err)
	}
	return doc, nil
}

// seal encrypts the file to the owner's e2e key and checks it fits on chain.
func (c *Client) seal(file []byte, max uint64) ([]byte, error) {
	if len(c.Twin.E2EKey) == 0 {
		return nil, fmt.Errorf("twin %d has no e2e key to encrypt the deployment to (register it: tfgridd tx tfgrid update-twin --from KEY)", c.Twin.Id)
	}
	data, err := SealData(c.Twin.E2EKey, file)
	if err != nil {
		return nil, err
	}
	return data, CheckDataSize(data, max)
}

// checkPublicIPs: the node's farm has n free public IPs.
func (c *Client) checkPublicIPs(ctx context.Context, node tftypes.Node, n uint32) error {
	if n == 0 {
		return nil
	}
	res, err := c.Chain.Tfgrid.FarmPublicIps(ctx, &tftypes.QueryFarmPublicIpsRequest{Id: node.FarmId})
	if err != nil {
		return fmt.Errorf("farm %d public IPs: %w", node.FarmId, err)
	}
	var free uint32
	for _, ip := range res.PublicIps {
		if ip.ContractId == 0 {
			free++
		}
	}
	if free < n {
		return fmt.Errorf("not enough public IPs: the deployment needs %d, farm %d of node %d has %d free", n, node.FarmId, node.Id, free)
	}
	return nil
}

// hourly prices a reservation on node at the chain's current TFT price.
func (c *Client) hourly(ctx context.Context, node tftypes.Node, reserve deployment.Capacity, ips uint32) (sdkmath.Int, error) {
	farm, err := c.Chain.Tfgrid.Farm(ctx, &tftypes.QueryFarmRequest{Id: node.FarmId})
	if err != nil {
		return sdkmath.Int{}, fmt.Errorf("farm %d: %w", node.FarmId, err)
	}
	policy, err := c.Chain.Tfgrid.PricingPolicy(ctx, &tftypes.QueryPricingPolicyRequest{Id: farm.Farm.PricingPolicyId})
	if err != nil {
		return sdkmath.Int{}, fmt.Errorf("pricing policy %d: %w", farm.Farm.PricingPolicyId, err)
	}
	price, err := c.Chain.Billing.Price(ctx, &billingtypes.QueryPriceRequest{})
	if err != nil {
		return sdkmath.Int{}, fmt.Errorf("TFT price: %w", err)
	}
	return HourlyUTFT(policy.PricingPolicy, reserve, ips, price.PriceMusd), nil
}

// checkFunds: the account can lock the deposit.
func (c *Client) checkFunds(ctx context.Context, deposit sdkmath.Int) error {
	res, err := c.Chain.Bank.Balance(ctx, &banktypes.QueryBalanceRequest{Address: c.Address(), Denom: denom})
	if err != nil {
		return fmt.Errorf("balance of %s: %w", c.Address(), err)
	}
	if res.Balance.Amount.LT(deposit) {
		return fmt.Errorf("not enough funds for the contract deposit: %s holds %s%s, the deposit is %s%s",
			c.Address(), res.Balance.Amount, denom, deposit, denom)
	}
	return nil
}

// Options tune Deploy and Update.
type Options struct {
	MaxUTFTPerHour uint64 // the contract's spending cap; 0: none
	KeepOnError    bool   // keep the contract when the node refuses or a workload fails
	Timeout        time.Duration
	// Progress sees the workloads each time the node is asked (default: nothing).
	Progress func([]deployment.Workload)
}

// ErrWorkload: a workload ended in state error.
var ErrWorkload = errors.New("workload failed")

// Deploy creates the plan's contract, sends the deployment and follows it until every workload
// is ok. A refusal, a failed workload or the timeout cancels the contract (unless KeepOnError) and
// returns the error; the contract id is returned either way.
func (c *Client) Deploy(ctx context.Context, p *Plan, opts Options) (uint64, *deployment.Deployment, error) {
	res, err := c.send(ctx, fmt.Sprintf("create a node contract on node %d", p.Node.Id), &sctypes.MsgCreateNodeContract{
		Creator: c.Address(), NodeId: p.Node.Id, DeploymentHash: p.Doc.Hash(), DeploymentData: p.Data,
		PublicIpsCount: p.PublicIPs, Resources: resources(p.Reserve), MaxUtftPerHour: opts.MaxUTFTPerHour})
	if err != nil {
		return 0, nil, err
	}
	id, err := contractIDFrom(res)
	if err != nil {
		return 0, nil, err
	}
	doc, err := withFields(p.Doc, map[string]any{"contract_id": id})
	if err == nil {
		err = c.call(ctx, p.Node, "zos.deployment.deploy", Raw(doc.Bytes()), nil)
	}
	var d *deployment.Deployment
	if err == nil {
		d, err = c.follow(ctx, p.Node, id, doc.Deployment.Version, opts)
	}
	if err != nil && !opts.KeepOnError {
		if cerr := c.Cancel(context.WithoutCancel(ctx), id); cerr != nil {
			return id, d, fmt.Errorf("%w; cancelling contract %d failed too: %v", err, id, cerr)
		}
		return id, d, fmt.Errorf("%w (contract %d cancelled, its deposit returned)", err, id)
	}
	return id, d, err
}

// follow asks the node for the deployment until it has the version sent and every workload is ok,
// one is in error, or the timeout.
func (c *Client) follow(ctx context.Context, node tftypes.Node, id uint64, version uint32, opts Options) (*deployment.Deployment, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Minute
	}
	deadline := time.Now().Add(opts.Timeout)
	for {
		d, err := c.Get(ctx, node.Id, id)
		if err != nil {
			return nil, err
		}
		if d.Version != version { // the node has not taken the update in yet
			d.Workloads = nil
		}
		if opts.Progress != nil && d.Workloads != nil {
			opts.Progress(d.Workloads)
		}
		done := d.Workloads != nil
		for _, w := range d.Workloads {
			switch w.Result.State {
			case deployment.StateError:
				return d, fmt.Errorf("contract %d: %w: %s: %s", id, ErrWorkload, w.Name, w.Result.Message)
			case deployment.StateOk:
			default:
				done = false
			}
		}
		if done {
			return d, nil
		}
		if time.Now().After(deadline) {
			return d, fmt.Errorf("contract %d: workloads not all ok after %s", id, opts.Timeout)
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Update replaces the deployment of contract id with the file: version + 1, the changed workloads at
// the new version, the contract's hash, data and reservation updated, then the node updated.
func (c *Client) Update(ctx context.Context, id uint64, file []byte, opts Options) (*deployment.Deployment, error) {
	_, nc, err := c.Contract(ctx, id)
	if err != nil {
		return nil, err
	}
	node, err := c.nodeTwin(ctx, nc.NodeId)
	if err != nil {
		return nil, err
	}
	current, err := c.Get(ctx, node.Id, id)
	if err != nil {
		return nil, err
	}
	parsed, err := parseOwnFile(file, c.Twin.Id, c.cfg.Key)
	if err != nil {
		return nil, err
	}
	doc, err := nextVersion(current, parsed)
	if err != nil {
		return nil, err
	}
	if _, err := deployment.Update(current, &doc.Deployment); err != nil {
		return nil, fmt.Errorf("deployment file: %w", err)
	}
	if doc, err = c.signChecked(ctx, doc); err != nil {
		return nil, err
	}
	reserve, err := doc.Deployment.Capacity()
	if err != nil {
		return nil, err
	}
	params, err := c.Chain.Contracts.Params(ctx, &sctypes.QueryParamsRequest{})
	if err != nil {
		return nil, fmt.Errorf("contract params: %w", err)
	}
	data, err := c.seal(file, params.Params.MaxDeploymentDataBytes)
	if err != nil {
		return nil, err
	}
	limit := opts.MaxUTFTPerHour
	if limit == 0 {
		limit = nc.MaxUtftPerHour
	}
	if _, err := c.send(ctx, fmt.Sprintf("update contract %d", id), &sctypes.MsgUpdateNodeContract{Creator: c.Address(), ContractId: id,
		DeploymentHash: doc.Hash(), DeploymentData: data, Resources: resources(reserve), MaxUtftPerHour: limit}); err != nil {
		return nil, err
	}
	if err := c.call(ctx, node, "zos.deployment.update", Raw(doc.Bytes()), nil); err != nil {
		return nil, err
	}
	return c.follow(ctx, node, id, doc.Deployment.Version, opts)
}

// Get asks the node for the deployment of a contract.
func (c *Client) Get(ctx context.Context, node, id uint64) (*deployment.Deployment, error) {
	n, err := c.nodeTwin(ctx, node)
	if err != nil {
		return nil, err
	}
	var d deployment.Deployment
	if err := c.call(ctx, n, "zos.deployment.get", contractRequest{ContractID: id}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// NodeOf is the node of a node contract.
func (c *Client) NodeOf(ctx context.Context, id uint64) (uint64, error) {
	_, nc, err := c.Contract(ctx, id)
	if err != nil {
		return 0, err
	}
	return nc.NodeId, nil
}

// Changes asks the node for the change log of a contract's deployment (as the node sends it).
func (c *Client) Changes(ctx context.Context, node, id uint64) (Raw, error) {
	n, err := c.nodeTwin(ctx, node)
	if err != nil {
		return nil, err
	}
	var out Raw
	return out, c.call(ctx, n, "zos.deployment.changes", contractRequest{ContractID: id}, &out)
}

// List asks a node for this twin's live deployments.
func (c *Client) List(ctx context.Context, node uint64) ([]deployment.Deployment, error) {
	n, err := c.nodeTwin(ctx, node)
	if err != nil {
		return nil, err
	}
	var out []deployment.Deployment
	return out, c.call(ctx, n, "zos.deployment.list", struct{}{}, &out)
}

// Recover reads a contract's deployment data from the chain and decrypts it with the user's key:
// the file as it was deployed, byte for byte.
func (c *Client) Recover(ctx context.Context, id uint64) ([]byte, error) {
	_, nc, err := c.Contract(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(nc.DeploymentData) == 0 {
		return nil, fmt.Errorf("contract %d holds no deployment data", id)
	}
	plain, err := OpenData(c.cfg.Key, nc.DeploymentData)
	if err != nil {
		return nil, fmt.Errorf("contract %d: %w", id, err)
	}
	return plain, nil
}
