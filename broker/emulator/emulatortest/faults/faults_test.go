package faults_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
)

// client is an STS client of a hub-role session that does not retry, so
// every fault shows.
func client(t *testing.T, h *emulatortest.Hub) *sts.Client {
	t.Helper()
	c, err := h.Emulator.IssueCredentials(h.RoleARN, "ada", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return sts.New(sts.Options{
		Region: h.Emulator.Region(), BaseEndpoint: aws.String(h.Emulator.URL()), HTTPClient: h.Emulator.HTTPClient(),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		RetryMaxAttempts: 1,
	})
}

// apiError is err's AWS error code and HTTP status.
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an AWS error: %v", err)
	}
	var re interface{ HTTPStatusCode() int }
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), status
}

func TestAnsweringFaults(t *testing.T) {
	h := emulatortest.NewHub(t)
	c := client(t, h)
	ctx := context.Background()
	callerIdentity := func() error { _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }
	// STS never denies GetCallerIdentity, revoked or not: a revoked role
	// shows on AssumeRole.
	assumeRole := func() error {
		_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(h.RoleARN), RoleSessionName: aws.String("ada")})
		return err
	}
	for _, tc := range []struct {
		kind   faults.FaultKind
		action string
		call   func() error
		code   string
		status int
		reason emulator.Reason
	}{
		{faults.ServerError, "GetCallerIdentity", callerIdentity, "InternalFailure", 500, faults.ReasonInjected},
		{faults.Throttle, "GetCallerIdentity", callerIdentity, "Throttling", 400, faults.ReasonInjected},
		{faults.ExpiredCredentials, "GetCallerIdentity", callerIdentity, "ExpiredToken", 400, emulator.ReasonExpiredCredentials},
		{faults.RevokedRole, "AssumeRole", assumeRole, "AccessDenied", 403, emulator.ReasonRevokedRole},
	} {
		h.Faults.Inject(faults.Fault{Action: tc.action, Kind: tc.kind, Times: 1})
		if code, status := apiError(t, tc.call()); code != tc.code || status != tc.status {
			t.Errorf("%d: answered %s %d, want %s %d", tc.kind, code, status, tc.code, tc.status)
		}
		if rec, _ := h.Emulator.Last(tc.action); rec.Reason != tc.reason || rec.Allowed {
			t.Errorf("%d: recorded %+v, want refused for %s", tc.kind, rec, tc.reason)
		}
		if err := callerIdentity(); err != nil {
			t.Fatalf("%d: once the fault ran out: %v", tc.kind, err)
		}
	}
}

func TestFaultsCountAndMatchTheirAction(t *testing.T) {
	h := emulatortest.NewHub(t)
	c := client(t, h)
	ctx := context.Background()
	h.Faults.Inject(faults.Fault{Action: "AssumeRole", Kind: faults.Throttle})
	h.Faults.Inject(faults.Fault{Action: "GetCallerIdentity", Kind: faults.Throttle, Times: 2})
	for i := range 2 {
		if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
			t.Fatalf("call %d passed a fault armed for two", i+1)
		}
	}
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("third call: %v", err)
	}
	in := &sts.AssumeRoleInput{RoleArn: aws.String(h.AddTarget("t", true)), RoleSessionName: aws.String("ada"), ExternalId: aws.String(emulatortest.ExternalID)}
	for range 3 {
		if _, err := c.AssumeRole(ctx, in); err == nil {
			t.Fatal("a fault without Times stopped")
		}
	}
	h.Faults.Clear()
	if _, err := c.AssumeRole(ctx, in); err != nil {
		t.Fatalf("after Clear: %v", err)
	}
}

func TestDisconnect(t *testing.T) {
	h := emulatortest.NewHub(t)
	h.Faults.Inject(faults.Fault{Kind: faults.Disconnect, Times: 1})
	_, err := client(t, h).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if err == nil || errors.As(err, &ae) {
		t.Fatalf("dropped connection answered: %v", err)
	}
	if rec, _ := h.Emulator.Last("GetCallerIdentity"); rec.Status != 0 || rec.Reason != faults.ReasonInjected {
		t.Errorf("recorded %+v", rec)
	}
}

func TestClockSkew(t *testing.T) {
	h := emulatortest.NewHub(t)
	h.Faults.Inject(faults.Fault{Kind: faults.ClockSkew, Offset: 10 * time.Minute, Times: 1})
	_, err := client(t, h).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if code, status := apiError(t, err); code != "SignatureDoesNotMatch" || status != http.StatusForbidden || !strings.Contains(err.Error(), "Signature expired") {
		t.Fatalf("skewed: %v", err)
	}
	if rec, _ := h.Emulator.Last("GetCallerIdentity"); rec.Reason != emulator.ReasonClockSkew {
		t.Errorf("recorded %+v", rec)
	}
}

func TestLatencyHonoursClientDeadline(t *testing.T) {
	h := emulatortest.NewHub(t)
	c := client(t, h)
	h.Faults.Inject(faults.Fault{Action: "GetCallerIdentity", Kind: faults.Latency, Delay: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want the client's deadline", err)
	}
	h.Faults.Clear()
	h.Faults.Inject(faults.Fault{Action: "GetCallerIdentity", Kind: faults.Latency, Delay: 300 * time.Millisecond, Times: 1})
	start := time.Now()
	if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("answered after %v, before the delay", d)
	}
}
