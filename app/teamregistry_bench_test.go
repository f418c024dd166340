package app_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lanyard-app/lanyard/app"
	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/app/registry"
	"github.com/lanyard-app/lanyard/app/secrets"
)

// BenchmarkRegistrySync500 is `lanyard account sync` of a signed registry
// file of 500 accounts already subscribed: read, verify, decode, merge and
// save the config (about 200 KiB).
func BenchmarkRegistrySync500(b *testing.B) {
	store := secrets.NewMemory()
	w, err := demo.Start(demo.Options{Store: store, IdentityOnly: true, KeyFile: true})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	a, err := app.New(app.Options{ConfigDir: w.ConfigDir, Store: store, Resolver: w.Resolver})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	tm := &team{w: w, a: a, dir: b.TempDir()}
	tm.doc = registry.Document{Format: registry.Format, Version: registry.Version, Name: "platform", HubAccount: w.Emulator.AccountID(), HubRole: w.HubRoleARN}
	for i := range 500 {
		tm.doc.Accounts = append(tm.doc.Accounts, registry.Account{Name: fmt.Sprintf("team-%04d", i), AccountID: fmt.Sprintf("7%011d", i), RoleName: "Lanyard",
			OUPath: "/Workloads", ExternalIDSecret: fmt.Sprintf("arn:aws:secretsmanager:us-east-1:%s:secret:lanyard/team-%04d-AbCdEf", w.Emulator.AccountID(), i)})
	}
	if tm.priv, tm.pub, err = registry.GenerateKey(); err != nil {
		b.Fatal(err)
	}
	path := tm.publish(b, true)
	ctx := context.Background()
	if _, err := a.SubscribeRegistry(ctx, app.SubscribeRequest{Source: path, PublicKey: tm.pub.String()}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := a.SyncRegistry(ctx, "platform", false)
		if err != nil || rep.Unchanged != 500 {
			b.Fatal(rep, err)
		}
	}
}
