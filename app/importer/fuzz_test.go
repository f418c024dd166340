package importer

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

func FuzzPlan(f *testing.F) {
	if data, err := os.ReadFile("testdata/aws-config"); err == nil {
		f.Add(string(data))
	}
	f.Add("[profile p]\ncredential_process = aws_signing_helper credential-process --certificate \"pkcs11:token=T;object=c?pin-value=s3cretPIN\" --trust-anchor-arn " + euTrustAnchor + " --profile-arn " + euProfile + " --role-arn " + hubRole + "\n[profile r]\nrole_arn = arn:aws:iam::210987654321:role/R\nsource_profile = p\nexternal_id = Ext-Id-Secret-42\n")
	f.Fuzz(func(t *testing.T, text string) {
		plan, err := BuildPlan([]byte(text), nil)
		if err != nil {
			return
		}
		fields := configStrings(plan)
		for _, s := range fields {
			if strings.Contains(strings.ToLower(s), "pin-value") {
				t.Fatalf("a config field carries a pin-value: %q", s)
			}
		}
		// A secret that occurs at most once in the input can reach a
		// config field only by being copied there from its secret place.
		for key, secret := range plan.Secrets {
			if len(secret) < 6 || strings.Count(text, secret) > 1 {
				continue
			}
			for _, s := range fields {
				if strings.Contains(s, secret) {
					t.Fatalf("secret %s appears in a config field %q", key, s)
				}
			}
		}
		_ = plan.Summary()
		_ = fmt.Sprint(plan)
	})
}

// configStrings lists every string in the plan's identities and accounts.
func configStrings(plan *Plan) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			out = append(out, v.String())
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(plan.Identities))
	walk(reflect.ValueOf(plan.Accounts))
	return out
}
