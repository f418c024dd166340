package emulator_test

import (
	"fmt"
	"log"

	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/pki"
)

// A typical setup: a trust anchor for the user's CA, a role in the
// identity account that Roles Anywhere may assume, a role in a connected
// account that trusts it with an ExternalId, and a profile. Env is what a
// client (or the lanyard process) needs to talk to it.
func Example() {
	emu, err := emulator.New(emulator.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		log.Fatal(err)
	}
	defer emu.Close()

	ca, err := pki.NewCA("Example Root CA")
	if err != nil {
		log.Fatal(err)
	}
	anchor := emu.AddTrustAnchor("people", "", ca.Certificate)
	identity := emu.AddRole(emulator.RoleSpec{Name: "LanyardIdentity", TrustRolesAnywhere: true})
	emu.AddRole(emulator.RoleSpec{
		AccountID:              "210987654321",
		Name:                   "Admin",
		TrustedPrincipals:      []string{identity},
		ExternalID:             "a-random-external-id",
		AllowSetSourceIdentity: true,
	})
	profile := emu.AddProfile(emulator.ProfileSpec{Name: "people", RoleARNs: []string{identity}, Enabled: true})

	fmt.Println(anchor != "", profile != "", emu.Env()["AWS_ENDPOINT_URL"] == emu.URL())
	// Output: true true true
}
