package registry

import (
	"encoding/json"
	"fmt"
	"testing"
)

// BenchmarkParseAndVerify10000 checks the signature of and decodes a
// registry of MaxAccounts accounts, what every sync of the largest
// registry costs before the merge.
func BenchmarkParseAndVerify10000(b *testing.B) {
	d := Document{Format: Format, Version: Version, Name: "org", HubAccount: "111111111111",
		HubRole: "arn:aws:iam::111111111111:role/LanyardHub", Region: "eu-west-1"}
	for i := range MaxAccounts {
		d.Accounts = append(d.Accounts, Account{Name: fmt.Sprintf("team-%05d", i), AccountID: fmt.Sprintf("7%011d", i), RoleName: "Lanyard",
			OUPath: "/Workloads/Prod", Tags: map[string]string{"team": "payments"},
			ExternalIDSecret: fmt.Sprintf("arn:aws:secretsmanager:eu-west-1:111111111111:secret:lanyard/team-%05d-AbCdEf", i)})
	}
	data, err := json.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	priv, pub, _ := GenerateKey()
	sig, _, err := Sign(priv, data, "r.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if err := Verify(pub, data, sig); err != nil {
			b.Fatal(err)
		}
		if _, err := Parse("r.json", data); err != nil {
			b.Fatal(err)
		}
	}
}
