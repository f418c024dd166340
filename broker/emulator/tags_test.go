package emulator

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// TestTransitiveTagsCarryThroughChaining: the log shows each session's name,
// source identity and tags; transitive tags pass on to a session assumed
// from it, and may not be replaced there.
func TestTransitiveTagsCarryThroughChaining(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := f.targetRole(RoleSpec{AllowSetSourceIdentity: true, AllowTagSession: true})
	second := f.targetRole(RoleSpec{Name: "Reader", TrustedPrincipals: []string{first}, AllowSetSourceIdentity: true, AllowTagSession: true})
	ctx := context.Background()

	out, err := stsClient(f.e, f.session()).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(first), RoleSessionName: aws.String("alice"),
		Tags:              []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("cost"), Value: aws.String("42")}},
		TransitiveTagKeys: []string{"team"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := f.e.Last("AssumeRole")
	if rec.SessionName != "alice" || rec.SourceIdentity != "alice@example.com" ||
		!maps.Equal(rec.Tags, map[string]string{"team": "blue", "cost": "42"}) || !slices.Equal(rec.TransitiveTagKeys, []string{"team"}) {
		t.Fatalf("first hop logged %q %q %v %v", rec.SessionName, rec.SourceIdentity, rec.Tags, rec.TransitiveTagKeys)
	}

	chained := stsClient(f.e, Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)})
	if _, err := chained.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := f.e.Last("AssumeRole"); !maps.Equal(rec.Tags, map[string]string{"team": "blue"}) || !slices.Equal(rec.TransitiveTagKeys, []string{"team"}) {
		t.Errorf("second hop logged tags %v (transitive %v), want only the transitive team=blue", rec.Tags, rec.TransitiveTagKeys)
	}
	_, err = chained.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(second), RoleSessionName: aws.String("alice"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
	if code, _, _ := apiError(t, err); code != "ValidationError" {
		t.Errorf("replacing a transitive tag gave %s", code)
	}
}
