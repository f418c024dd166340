package emulator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestFaultServerErrorIsRetriedBySDK(t *testing.T) {
	f := newFixture(t)
	f.e.Inject(Fault{Action: "GetCallerIdentity", Kind: ServerError, Times: 1})
	client := sts.New(stsClient(f.e, f.session()).Options(), func(o *sts.Options) {
		o.RetryMaxAttempts = 0
		o.Retryer = retry.NewStandard(func(s *retry.StandardOptions) {
			s.MaxAttempts = 3
			s.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	recs := f.e.Requests()
	var calls []Record
	for _, r := range recs {
		if r.Action == "GetCallerIdentity" {
			calls = append(calls, r)
		}
	}
	if len(calls) != 2 || calls[0].Status != 500 || calls[0].Reason != ReasonInjectedFault || !calls[1].Allowed {
		t.Fatalf("calls %+v", calls)
	}
}

func TestFaultThrottleCreateSession(t *testing.T) {
	f := newFixture(t)
	f.e.Inject(Fault{Action: "CreateSession", Kind: Throttle, Times: 2})
	for i := 0; i < 2; i++ {
		if r := f.createSession(createSessionRequest{}); r.status != 429 || r.errorType != "ThrottlingException" {
			t.Fatalf("call %d: %d %s", i, r.status, r.errorType)
		}
	}
	if r := f.createSession(createSessionRequest{}); r.status != 201 {
		t.Fatalf("after the fault ran out: %d", r.status)
	}
	if n := f.e.Count("CreateSession"); n != 3 {
		t.Errorf("count %d", n)
	}
}

func TestFaultLatencyHonoursClientDeadline(t *testing.T) {
	f := newFixture(t)
	client := stsClient(f.e, f.session())
	f.e.Inject(Fault{Action: "GetCallerIdentity", Kind: Latency, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the client's deadline", err)
	}
	f.e.ClearFaults()
	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

func TestFaultsOnSTS(t *testing.T) {
	f := newFixture(t)
	target := f.targetRole(RoleSpec{AllowSetSourceIdentity: true})
	client := stsClient(f.e, f.session())
	ctx := context.Background()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("alice")}

	f.e.Inject(Fault{Action: "AssumeRole", Kind: RevokedRole, Times: 1})
	_, err := client.AssumeRole(ctx, in)
	if code, _, _ := apiError(t, err); code != "AccessDenied" {
		t.Fatalf("revoked: %s", code)
	}
	if rec, _ := f.e.Last("AssumeRole"); rec.Reason != ReasonRevokedRole {
		t.Errorf("reason %q", rec.Reason)
	}

	f.e.Inject(Fault{Action: "AssumeRole", Kind: ExpiredCredentials, Times: 1})
	_, err = client.AssumeRole(ctx, in)
	if code, _, _ := apiError(t, err); code != "ExpiredToken" {
		t.Fatalf("expired: %s", code)
	}

	f.e.Inject(Fault{Action: "AssumeRole", Kind: Disconnect, Times: 1})
	if _, err := client.AssumeRole(ctx, in); err == nil {
		t.Fatal("dropped connection reported success")
	}

	if _, err := client.AssumeRole(ctx, in); err != nil {
		t.Fatalf("after faults ran out: %v", err)
	}
	if n := f.e.Count("AssumeRole"); n != 4 {
		t.Errorf("count %d, want 4", n)
	}
}

func TestRevokeRoleCutsOffExistingSessions(t *testing.T) {
	f := newFixture(t)
	target := f.targetRole(RoleSpec{AllowSetSourceIdentity: true})
	client := stsClient(f.e, f.session())
	ctx := context.Background()
	f.clock.Advance(time.Second) // revocation covers sessions issued until now
	f.e.RevokeRole(f.roleARN)
	_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("alice")})
	if code, _, _ := apiError(t, err); code != "AccessDenied" {
		t.Fatalf("revoked caller: %s", code)
	}
	// GetCallerIdentity needs no permission, as in AWS.
	if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	f.e.Reset()
	if len(f.e.Requests()) != 0 {
		t.Error("Reset kept records")
	}
}
