package app

import (
	"context"
	"fmt"

	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"
	"github.com/cosmos/cosmos-sdk/types/module"
	upgradetypes "github.com/cosmos/cosmos-sdk/x/upgrade/types"
)

// Upgrade is a named software upgrade: its state migration and the stores it
// adds, renames or deletes.
type Upgrade struct {
	Name          string
	Handler       func(app *App) upgradetypes.UpgradeHandler
	StoreUpgrades storetypes.StoreUpgrades
}

// upgrades lists every upgrade of the chain, oldest first.
var upgrades = []Upgrade{}

// defaultUpgradeHandler runs the modules' registered migrations.
func defaultUpgradeHandler(app *App) upgradetypes.UpgradeHandler {
	return func(ctx context.Context, _ upgradetypes.Plan, fromVM module.VersionMap) (module.VersionMap, error) {
		return app.ModuleManager.RunMigrations(ctx, app.configurator, fromVM)
	}
}

// setupUpgrades registers the upgrade handlers and, when the node restarts
// for a planned upgrade, the store loader that applies its store changes.
func (app *App) setupUpgrades() {
	for _, u := range upgrades {
		handler := defaultUpgradeHandler(app)
		if u.Handler != nil {
			handler = u.Handler(app)
		}
		app.UpgradeKeeper.SetUpgradeHandler(u.Name, handler)
	}
	if len(upgrades) == 0 {
		return
	}

	plan, err := app.UpgradeKeeper.ReadUpgradeInfoFromDisk()
	if err != nil {
		panic(fmt.Errorf("read upgrade info from disk: %w", err))
	}
	if plan.Name == "" || app.UpgradeKeeper.IsSkipHeight(plan.Height) {
		return
	}
	for _, u := range upgrades {
		if u.Name == plan.Name {
			storeUpgrades := u.StoreUpgrades
			app.SetStoreLoader(upgradetypes.UpgradeStoreLoader(plan.Height, &storeUpgrades))
		}
	}
}
