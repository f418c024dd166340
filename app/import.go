package app

import (
	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/importer"
)

// Import applies an import plan: its secrets go to the keyring, its
// identities and accounts into the config, all or nothing.
func (a *Setup) Import(plan *importer.Plan) error {
	return a.edit(func(c *config.Config) error { return importer.Apply(plan, c, a.store) })
}
