package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// BenchmarkDeployStackSetThousandThirdParties is one `account template
// --stackset --trust external-id --run` deployment to 1,000 accounts, each
// with its own ExternalId override, through a connected account's
// credentials: CreateStackSet, 1,000 CreateStackInstances, 1,000
// DescribeStackSetOperation and the ListStackInstances pages. The keyring
// reads of PlanStackSet are left out (the plan's overrides are made here);
// the calls per deployment are reported as calls/op.
func BenchmarkDeployStackSetThousandThirdParties(b *testing.B) {
	const n = 1000
	w, a, _, _ := stackSetWorld(b)
	e := w.Emulator
	admin := e.AddRole(emulator.RoleSpec{Name: "AWSCloudFormationStackSetAdministrationRole", TrustedPrincipals: []string{"cloudformation.amazonaws.com"}})
	ctx := context.Background()
	// One saved account gives the plan its template and parameters; the
	// benchmark's accounts get overrides made here.
	ext, err := a.NewExternalID()
	if err != nil {
		b.Fatal(err)
	}
	if err := a.AddAccount(app.AccountDraft{Name: "bench", AccountID: "999999999999", RoleName: app.DefaultRoleName, Identity: demo.Identity, ExternalID: ext}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.RemoveAccount("bench") })
	base, err := a.PlanStackSet(app.StackSetRequest{Trust: app.TrustExternalID, Identity: demo.Identity, Accounts: []string{"bench"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Credentials(ctx, "management"); err != nil {
		b.Fatal(err)
	}
	iteration := 0
	for b.Loop() {
		b.StopTimer()
		iteration++
		plan := base
		plan.Name, plan.Instances = fmt.Sprintf("bench-%d", iteration), nil
		for i := range n {
			id := fmt.Sprintf("9%03d%08d", iteration, i)
			e.AddRole(emulator.RoleSpec{AccountID: id, Name: "AWSCloudFormationStackSetExecutionRole", TrustedPrincipals: []string{admin}})
			ext, err := a.NewExternalID()
			if err != nil {
				b.Fatal(err)
			}
			plan.Instances = append(plan.Instances, app.StackInstancesCall{AccountID: id, Overrides: []app.StackSetParameter{{Key: "ExternalId", Value: ext}}})
		}
		e.Reset()
		b.StartTimer()
		out, err := a.DeployStackSet(ctx, plan, "management", through(a, "management"), nil)
		if err != nil || out.Deployed != n {
			b.Fatalf("%+v, %v", out, err)
		}
		b.ReportMetric(float64(len(e.Requests())), "calls/op")
	}
}
