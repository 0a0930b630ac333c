// Package cli holds the registry's hand-written CLI commands: the ones autocli cannot express. Every
// other command of `tfgridd query tfgrid` and `tfgridd tx tfgrid` comes from autocli.go.
package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"

	"github.com/tfgrid/tfgrid/x/tfgrid/types"
)

// Flags of `query tfgrid nodes`.
const (
	flagFarmID        = "farm-id"
	flagCountry       = "country"
	flagCity          = "city"
	flagCertification = "certification"
	flagPowerState    = "power-state"
	flagOnlineWithin  = "online-within"
	flagRent          = "rent"
	flagDedicated     = "dedicated"
	flagMinFreeIPs    = "min-free-ips"
	flagFreeCRU       = "free-cru"
	flagFreeMRU       = "free-mru"
	flagFreeSRU       = "free-sru"
	flagFreeHRU       = "free-hru"
)

// QueryCmd is `tfgridd query tfgrid`: the nodes command here, the rest added by autocli.
func QueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                        types.ModuleName,
		Short:                      "Querying commands for the tfgrid module",
		DisableFlagParsing:         true,
		SuggestionsMinimumDistance: 2,
		RunE:                       client.ValidateCmd,
	}
	cmd.AddCommand(NodesCmd())
	return cmd
}

// NodesCmd is `tfgridd query tfgrid nodes`: the node finder, with sizes in human units.
func NodesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "List nodes, or find the nodes matching filters (free capacity, location, rent status...)",
		Long: `Without filters, lists the nodes (of one farm with --farm-id).
With filters, returns the matching nodes in id order, at most 100 a page, after looking at no more than
1000 nodes: a page with a next_key may hold fewer nodes than asked; pass it back with --page-key.
Sizes take units: 8GiB, 100GB, 1TiB (a bare number is bytes). Each node comes with what it has free.
A rented node is never free for anyone but its renter, so --free-* filters skip rented nodes.`,
		Example: `tfgridd query tfgrid nodes --country BE --free-mru 8GiB --free-sru 100GiB
tfgridd query tfgrid nodes --rent rentable --online-within 2h --min-free-ips 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := nodesRequest(cmd.Flags())
			if err != nil {
				return err
			}
			clientCtx, err := client.GetClientQueryContext(cmd)
			if err != nil {
				return err
			}
			res, err := types.NewQueryClient(clientCtx).Nodes(cmd.Context(), req)
			if err != nil {
				return err
			}
			return clientCtx.PrintProto(res)
		},
	}
	f := cmd.Flags()
	f.Uint64(flagFarmID, 0, "only the nodes of this farm")
	f.String(flagCountry, "", "only the nodes in this country: an ISO 3166-1 alpha-2 code (BE) or an English name (Belgium), ignoring case")
	f.String(flagCity, "", "only the nodes in this city (ignoring case)")
	f.String(flagCertification, "", "only the nodes with this certification: diy or certified")
	f.String(flagPowerState, "", "only the nodes in this power state: up or down")
	f.Duration(flagOnlineWithin, 0, "only the nodes that reported uptime within this long (e.g. 2h)")
	f.String(flagRent, "", "only the nodes that are rented, not-rented, or rentable (a rent contract would be accepted now)")
	f.Bool(flagDedicated, false, "only the nodes that can only be rented whole (dedicated farm or extra fee)")
	f.Uint64(flagMinFreeIPs, 0, "only the nodes whose farm has at least this many free public IPs")
	f.Uint64(flagFreeCRU, 0, "only the nodes with at least this many CPU cores free")
	f.String(flagFreeMRU, "", "only the nodes with at least this much memory free (e.g. 8GiB)")
	f.String(flagFreeSRU, "", "only the nodes with at least this much SSD free (e.g. 100GiB)")
	f.String(flagFreeHRU, "", "only the nodes with at least this much HDD free (e.g. 1TiB)")
	flags.AddQueryFlagsToCmd(cmd)
	flags.AddPaginationFlagsToCmd(cmd, "nodes")
	return cmd
}

// nodesRequest builds the Query/Nodes request from the command's flags.
func nodesRequest(f *pflag.FlagSet) (*types.QueryNodesRequest, error) {
	req := &types.QueryNodesRequest{}
	if pageFlagsSet(f) { // else the server's defaults, as autocli and REST leave them
		page, err := client.ReadPageRequest(f)
		if err != nil {
			return nil, err
		}
		req.Pagination = page
	}
	req.FarmId, _ = f.GetUint64(flagFarmID)
	req.Country, _ = f.GetString(flagCountry)
	req.City, _ = f.GetString(flagCity)
	req.Dedicated, _ = f.GetBool(flagDedicated)
	req.MinFreeIps, _ = f.GetUint64(flagMinFreeIPs)
	req.FreeCru, _ = f.GetUint64(flagFreeCRU)
	online, _ := f.GetDuration(flagOnlineWithin)
	if online < 0 {
		return nil, fmt.Errorf("--%s %s: want a positive duration", flagOnlineWithin, online)
	}
	req.OnlineWithin = uint64(online / time.Second)

	cert, err := enumFlag(f, flagCertification, "NODE_CERTIFICATION_", types.NodeCertification_value)
	if err != nil {
		return nil, err
	}
	power, err := enumFlag(f, flagPowerState, "POWER_STATE_", types.PowerState_value)
	if err != nil {
		return nil, err
	}
	rent, err := enumFlag(f, flagRent, "NODE_RENT_FILTER_", types.NodeRentFilter_value)
	if err != nil {
		return nil, err
	}
	req.Certification, req.PowerState, req.Rent = types.NodeCertification(cert), types.PowerState(power), types.NodeRentFilter(rent)

	for name, dst := range map[string]*uint64{flagFreeMRU: &req.FreeMru, flagFreeSRU: &req.FreeSru, flagFreeHRU: &req.FreeHru} {
		if *dst, err = sizeFlag(f, name); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// pageFlagsSet reports whether any pagination flag was given.
func pageFlagsSet(f *pflag.FlagSet) bool {
	for _, name := range []string{flags.FlagPageKey, flags.FlagOffset, flags.FlagLimit, flags.FlagCountTotal, flags.FlagReverse, flags.FlagPage} {
		if f.Changed(name) {
			return true
		}
	}
	return false
}

// sizeFlag parses a size flag in bytes with units (8GiB, 100GB, 1TiB); empty is 0.
func sizeFlag(f *pflag.FlagSet, name string) (uint64, error) {
	v, _ := f.GetString(name)
	if v == "" {
		return 0, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: %w", name, v, err)
	}
	return n, nil
}

// ParseSize reads a size in bytes: a number with an optional unit, decimal (KB, MB, GB, TB) or binary
// (KiB, MiB, GiB, TiB); a bare number is bytes.
func ParseSize(s string) (uint64, error) {
	if strings.HasPrefix(strings.TrimSpace(s), "-") {
		return 0, fmt.Errorf("a size cannot be negative")
	}
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, fmt.Errorf("want a size such as 8GiB, 100GB or 1TiB")
	}
	return n, nil
}

// enumFlag maps a flag's lower-case name (certified, not-rented) to its proto enum value; empty is 0.
func enumFlag(f *pflag.FlagSet, name, prefix string, values map[string]int32) (int32, error) {
	v, _ := f.GetString(name)
	if v == "" {
		return 0, nil
	}
	key := prefix + strings.ToUpper(strings.ReplaceAll(v, "-", "_"))
	if n, ok := values[key]; ok && n != 0 {
		return n, nil
	}
	return 0, fmt.Errorf("--%s %q: want one of %s", name, v, strings.Join(enumNames(prefix, values), ", "))
}

// enumNames lists an enum's flag names (not its zero value), in value order.
func enumNames(prefix string, values map[string]int32) []string {
	names := make([]string, len(values))
	for k, n := range values {
		names[n] = strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(k, prefix), "_", "-"))
	}
	return names[1:]
}
