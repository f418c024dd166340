package demo

import (
	"fmt"

	"github.com/lanyard-app/lanyard/broker/emulator"
)

// buildOrganization makes the demo's AWS Organization: sandbox is its
// management account, allowed to read it, so `lanyard account discover
// --from sandbox` has something to find; staging and production are
// members, with a dozen more accounts in nested OUs whose Lanyard role
// trusts the hub role the same-organization way (no ExternalId). One is
// suspended.
func (w *World) buildOrganization() {
	emu := w.Emulator
	mgmt := w.Accounts[0]
	emu.AddRole(emulator.RoleSpec{
		AccountID: mgmt.AccountID, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN}, ExternalID: mgmt.ExternalID,
		AllowSetSourceIdentity: true, AllowTagSession: true,
		Allow: []string{"organizations:DescribeOrganization", "organizations:List*"},
	})
	org := emu.CreateOrganization(mgmt.AccountID)
	w.OrganizationID = org.ID()
	workloads := org.AddOU(org.RootID(), "Workloads")
	stages := map[string]string{}
	for _, s := range []string{"Prod", "Staging", "Dev"} {
		stages[s] = org.AddOU(workloads, s)
	}
	sandboxes := org.AddOU(org.RootID(), "Sandboxes")
	org.AddAccount(stages["Staging"], w.Accounts[1].AccountID, "Staging", map[string]string{"team": "platform"})
	org.AddAccount(stages["Prod"], w.Accounts[2].AccountID, "Production", map[string]string{"team": "platform"})
	n := 0
	add := func(parent, name, team string) string {
		id := fmt.Sprintf("8%011d", n)
		n++
		org.AddAccount(parent, id, name, map[string]string{"team": team, "cost-centre": fmt.Sprint(4100 + n)})
		emu.AddRole(emulator.RoleSpec{AccountID: id, Name: "Lanyard", TrustedPrincipals: []string{w.HubRoleARN},
			AllowSetSourceIdentity: true, AllowTagSession: true})
		return id
	}
	for _, team := range []string{"Payments", "Search", "Data", "Identity"} {
		for _, s := range []string{"Prod", "Staging", "Dev"} {
			add(stages[s], team+" "+s, team)
		}
	}
	add(sandboxes, "Sandbox Ada", "research")
	org.SetAccountState(add(sandboxes, "Sandbox Old", "research"), emulator.AccountSuspended)
}
