package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Realistic secrets, shaped like the real ones.
const (
	accessKeyIDLong = "AKIAIOSFODNN7EXAMPLE"
	accessKeyIDTemp = "ASIAZ3QWERTY7EXAMPLE"
	secretKey       = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken    = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDxg7kQ0vJ5dQ2e8Yq+3mB0c4vF9hN2sZ1tWqR7pL6aAIgV5kX3mN8qT2wY4uE6rO1pA9sD7fG0hJ3kL5zX8cV2bN4qtAMIRhABGgwxMTExMjIyMjMzMzMiDPd4Cg2xQ9V5nZ3tJSqdA4q8L6mN2vB1cX9zY3wT5uR7iO0pA4sD6fG8hJ1kL3zX5cV7bN9mQ2wE4rT6yU8iO0pA2sD4fG6hJ8kL0zX2cV4bN6mQ8wE0rT2yU4iO6pA8sD0fG2hJ4kL6zX8cV0bN2mQ4wE6rT8yU0iO2pA4sD6fG8hJ0kL2zX4cV6bN8mQ0wE2rT4yU6iO8pA0sD2fG4hJ6kL8zX0cV2bN4mQ6wE8rT0yU2iO4pA6sD8fG0hJ2kL4zX6cV8bN0mQ2wE4rT6yU8=="
	signinToken     = "VCQgs5qZZt3Q6fn8Tr5EXAMPLE-KdBJtJ7CxbS2-U_k0y4HQqZnwQi6LIdRVu5pO3jGn7s1_Wz9BxYpM4aUc2vTlDrHkN8eQgF0"
	jwtToken        = "eyJhbGciOiJFUzM4NCIsImtpZCI6Im15LWtleSJ9.eyJhdWQiOiJodHRwczovL2FwaS5leGFtcGxlLmNvbSIsInN1YiI6ImFybjphd3M6aWFtOjoxMTExMjIyMjMzMzM6cm9sZS9odWIifQ.MGQCMHd1Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6"
	pin             = "482913"
	externalID      = "q3V9x_Lr2-Tn8bWcK4mPz7Ya1sDfGh6JkQ0eRuIoNxBvCtEw"
)

func TestScrubRemovesRealisticSecrets(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"export AWS_ACCESS_KEY_ID='" + accessKeyIDTemp + "'\nexport AWS_SECRET_ACCESS_KEY='" + secretKey + "'\nexport AWS_SESSION_TOKEN='" + sessionToken + "'",
		`{"Version":1,"AccessKeyId":"` + accessKeyIDLong + `","SecretAccessKey":"` + secretKey + `","SessionToken":"` + sessionToken + `"}`,
		"[profile x]\naws_secret_access_key = " + secretKey + "\naws_session_token=" + sessionToken,
		"https://signin.aws.amazon.com/federation?Action=login&Issuer=lanyard&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=" + signinToken,
		`{"SigninToken":"` + signinToken + `"}`,
		"pkcs11:token=PIV;object=X.509%20Certificate%20for%20Digital%20Signature;pin-value=" + pin,
		"pkcs11:token=PIV?pin-value=" + pin,
		"token issued: " + jwtToken,
		"AssumeRole failed with ExternalId=" + externalID,
		"external_id: " + externalID,
		"copied " + externalID + " to the clipboard",
		"key " + secretKey + " and key id " + accessKeyIDTemp + ".",
		"X-Amz-Security-Token=" + sessionToken + "&X-Amz-Signature=abc123def456",
	}
	secrets := []string{accessKeyIDLong, accessKeyIDTemp, secretKey, sessionToken, signinToken, jwtToken, "pin-value=" + pin, externalID, "abc123def456"}
	for _, in := range inputs {
		out := Scrub(in)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("Scrub(%.60q…) kept %.20q…: %q", in, s, out)
			}
		}
		// No fragment long enough to matter survives either.
		for _, s := range []string{secretKey, sessionToken, signinToken, jwtToken, externalID} {
			if strings.Contains(out, s[5:25]) {
				t.Errorf("Scrub(%.60q…) kept part of a secret: %q", in, out)
			}
		}
		if !strings.Contains(out, Redacted) {
			t.Errorf("nothing redacted in %q", out)
		}
	}
}

func TestScrubKeepsOrdinaryDetail(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"assumed arn:aws:iam::444455556666:role/ops/ReadOnly in eu-west-1 for 1h",
		"certificate /home/alice/.config/lanyard/alice.pem expires 2026-12-01T00:00:00Z",
		"token PIV (serial 0123456789abcdef) not present; insert the YubiKey",
		"destination https://console.aws.amazon.com/s3/buckets?region=eu-west-1",
		"git 3f786850e387550fdab836ed7e6dc881de23001b",
		"wrong PIN, 2 tries left",
	} {
		if got := Scrub(s); got != s {
			t.Errorf("Scrub changed ordinary text:\n got %q\nwant %q", got, s)
		}
	}
}

func TestRecordAndRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", FileName)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 22, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	must(t, l.Record(Entry{Time: at, Identity: "yubikey", Account: "prod", Action: "console", Outcome: OK, Detail: "destination s3"}))
	must(t, l.Record(Entry{Identity: "yubikey", Account: "prod", Action: "env", Outcome: Failed, Detail: "SessionToken=" + sessionToken}))
	must(t, l.Record(Entry{Action: "account add", Outcome: Cancelled}))
	if err := l.Record(Entry{Action: "env", Outcome: "maybe"}); err == nil {
		t.Error("unknown outcome recorded")
	}
	must(t, l.Close())

	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("log mode: %v %v", st.Mode(), err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), sessionToken[:30]) {
		t.Fatal("a session token reached the audit log")
	}
	if lines := strings.Count(string(raw), "\n"); lines != 3 {
		t.Fatalf("%d lines:\n%s", lines, raw)
	}
	got, err := Read(path, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Action != "account add" || got[1].Action != "env" || got[1].Detail != "SessionToken="+Redacted {
		t.Fatalf("Read(2) = %+v", got)
	}
	all, _ := Read(path, 0)
	if len(all) != 3 || !all[2].Time.Equal(at) || all[2].Time.Location() != time.UTC {
		t.Fatalf("Read(0) = %+v", all)
	}
	if e, _ := Read(filepath.Join(t.TempDir(), "none"), 5); len(e) != 0 {
		t.Error("a missing log is not empty")
	}
}

func TestRotationKeepsWholeLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.MaxSize = 1000
	for i := range 50 {
		must(t, l.Record(Entry{Account: fmt.Sprintf("acct-%02d", i), Action: "env", Outcome: OK}))
	}
	must(t, l.Close())
	for _, p := range []string{path, path + ".1"} {
		st, err := os.Stat(p)
		if err != nil || st.Size() > 1000 || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", p, st, err)
		}
		assertWholeLines(t, p)
	}
	got, _ := Read(path, 1)
	if len(got) != 1 || got[0].Account != "acct-49" {
		t.Errorf("newest entry: %+v", got)
	}
}

// TestSeparateProcessesShareTheLog opens the same log twice, as the tray app
// and a CLI command would, and checks that a rotation by one is followed by
// the other.
func TestSeparateProcessesShareTheLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	tray, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer tray.Close()
	cli, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	tray.MaxSize = 300
	for range 5 {
		must(t, tray.Record(Entry{Action: "env", Outcome: OK, Detail: "from the tray"}))
	}
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Fatal("the tray did not rotate")
	}
	must(t, cli.Record(Entry{Action: "credential-process", Outcome: OK}))
	got, _ := Read(path, 1)
	raw, _ := os.ReadFile(path)
	if len(got) != 1 || got[0].Action != "credential-process" || !strings.Contains(string(raw), "credential-process") {
		t.Errorf("the CLI wrote into the rotated file: %+v", got)
	}
}

func TestConcurrentRecords(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if err := l.Record(Entry{Account: fmt.Sprintf("g%d-%d", g, i), Action: "env", Outcome: OK, Detail: strings.Repeat("x", 200)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	must(t, l.Close())
	assertWholeLines(t, path)
	if all, _ := Read(path, 0); len(all) != 400 {
		t.Errorf("%d entries, want 400", len(all))
	}
}

func assertWholeLines(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("\n")) {
		t.Errorf("%s does not end with a newline", path)
	}
	for _, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Errorf("%s: broken line %q: %v", path, line, err)
		}
	}
}

func TestDetailIsBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	must(t, l.Record(Entry{Action: "env", Outcome: Failed, Detail: strings.Repeat("word ", 2000)}))
	got, _ := Read(path, 1)
	if n := len([]rune(got[0].Detail)); n > maxDetail+1 {
		t.Errorf("detail of %d characters", n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
