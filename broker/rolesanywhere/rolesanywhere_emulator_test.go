package rolesanywhere

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest/faults"
	"github.com/lanyard-app/lanyard/broker/keys"
)

// emulatorSetup is a running emulator whose trust anchor is the test root
// CA, with profiles listing one role that trusts Roles Anywhere (otherRole
// trusts it too, but no profile lists it).
type emulatorSetup struct {
	emu                            *emulator.Emulator
	faults                         *faults.Set
	trustAnchor, profile           string
	role, otherRole                string
	strictProfile, disabledProfile string
}

// shared is one emulator for every test in the package: starting one
// generates CA keys, which takes about a second.
var shared struct {
	once  sync.Once
	setup emulatorSetup
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.setup.emu != nil {
		shared.setup.emu.Close()
	}
	os.Exit(code)
}

// startEmulator returns the shared emulator with its records and faults
// cleared.
func startEmulator(t *testing.T) emulatorSetup {
	t.Helper()
	shared.once.Do(func() { shared.setup, shared.err = newEmulatorSetup() })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	shared.setup.reset()
	return shared.setup
}

// reset forgets the emulator's records and disarms its faults.
func (s emulatorSetup) reset() {
	s.emu.Reset()
	s.faults.Clear()
}

func newEmulatorSetup() (emulatorSetup, error) {
	fs := &faults.Set{}
	emu, err := emulator.New(emulator.Options{Intercept: fs.Intercept})
	if err != nil {
		return emulatorSetup{}, err
	}
	if err := emu.Start(); err != nil {
		return emulatorSetup{}, err
	}
	root, err := os.ReadFile(pki("root.pem"))
	if err != nil {
		return emulatorSetup{}, err
	}
	rootCerts, err := keys.ParseCertificatesPEM(root, "root.pem")
	if err != nil {
		return emulatorSetup{}, err
	}
	s := emulatorSetup{emu: emu, faults: fs}
	s.trustAnchor = emu.AddTrustAnchor("lanyard-test", "", rootCerts...)
	s.role = emu.AddRole(emulator.RoleSpec{Name: "Developer", TrustRolesAnywhere: true, MaxSessionDuration: 43200})
	s.otherRole = emu.AddRole(emulator.RoleSpec{Name: "Other", TrustRolesAnywhere: true})
	s.profile = emu.AddProfile(emulator.ProfileSpec{Name: "dev", RoleARNs: []string{s.role}, DurationSeconds: 7200,
		AcceptRoleSessionName: true, Enabled: true})
	s.strictProfile = emu.AddProfile(emulator.ProfileSpec{Name: "strict", RoleARNs: []string{s.role}, DurationSeconds: 3600, Enabled: true})
	s.disabledProfile = emu.AddProfile(emulator.ProfileSpec{Name: "off", RoleARNs: []string{s.role}, Enabled: false})
	return s, nil
}

// config talks to the emulator through its environment only: endpoint
// override and AWS_CA_BUNDLE, as the app does.
func (s emulatorSetup) config() Config {
	return Config{
		TrustAnchorARN: s.trustAnchor,
		ProfileARN:     s.profile,
		RoleARN:        s.role,
		Resolver:       envResolver(s.emu.Env()),
		Backoff:        noBackoff{},
	}
}

func (s emulatorSetup) last(t *testing.T) emulator.Record {
	t.Helper()
	rec, ok := s.emu.Last("CreateSession")
	if !ok {
		t.Fatal("the emulator saw no CreateSession")
	}
	return rec
}

func TestEmulatorCreateSession(t *testing.T) {
	t.Parallel()
	s := startEmulator(t)
	for _, leaf := range []string{"rsa2048", "ec256", "ec384", "rsa4096"} {
		t.Run(leaf, func(t *testing.T) {
			kp := loadKeyPair(t, leaf, true)
			cfg := s.config()
			cfg.RoleSessionName = "alice"
			cfg.DurationSeconds = 7200
			before := time.Now()
			session, err := mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background())
			if err != nil {
				t.Fatalf("%v (emulator: %s)", err, s.last(t).Detail)
			}
			if rec := s.last(t); !rec.Allowed {
				t.Fatalf("emulator refused: %s %s", rec.Reason, rec.Detail)
			}
			if session.SourceIdentity != kp.Certificate.Subject.CommonName {
				t.Errorf("SourceIdentity %q, want the certificate CN %q", session.SourceIdentity, kp.Certificate.Subject.CommonName)
			}
			if session.AccountID != s.emu.AccountID() || session.RoleARN != s.role || !strings.Contains(session.AssumedRoleARN, ":assumed-role/Developer/alice") {
				t.Errorf("session %+v", session)
			}
			if d := session.Expiration.Sub(before); d < 7190*time.Second || d > 7210*time.Second {
				t.Errorf("session lasts %v, want 2h", d)
			}
			if session.Credentials.AccessKeyID == "" || session.Credentials.SecretAccessKey == "" || session.Credentials.SessionToken == "" {
				t.Error("incomplete credentials")
			}
		})
	}
}

func TestEmulatorMissingIntermediate(t *testing.T) {
	t.Parallel()
	s := startEmulator(t)
	_, err := mustProvider(t, s.config(), staticKey(loadKeyPair(t, "ec256", false), nil)).CreateSession(context.Background())
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Message != "Untrusted Signing Certificate" || !strings.Contains(err.Error(), "intermediate certificate may be missing") {
		t.Fatalf("got %v", err)
	}
	if rec := s.last(t); rec.Reason != emulator.ReasonUntrustedChain {
		t.Errorf("emulator reason %s, want %s", rec.Reason, emulator.ReasonUntrustedChain)
	}
	if n := s.emu.Count("CreateSession"); n != 1 {
		t.Errorf("%d attempts for an untrusted certificate, want 1", n)
	}
}

// tamper changes a request after it was signed, as a proxy or an attacker
// in the middle would.
type tamper struct {
	next   http.RoundTripper
	change func(*http.Request)
}

func (tp tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	tp.change(r)
	return tp.next.RoundTrip(r)
}

func TestEmulatorRejectsTamperedRequests(t *testing.T) {
	t.Parallel()
	s := startEmulator(t)
	tests := []struct {
		name   string
		change func(*http.Request)
	}{
		{"body", func(r *http.Request) {
			body := []byte(`{"durationSeconds":3000}`)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}},
		{"role in query", func(r *http.Request) {
			q := r.URL.Query()
			q.Set("roleArn", s.otherRole)
			r.URL.RawQuery = canonicalQuery(q)
		}},
		{"date", func(r *http.Request) {
			r.Header.Set("X-Amz-Date", time.Now().UTC().Add(time.Second*30).Format(amzDateFormat))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.Reset()
			client, err := envResolver(s.emu.Env()).HTTPClient()
			if err != nil {
				t.Fatal(err)
			}
			client.Transport = tamper{next: client.Transport, change: tt.change}
			cfg := s.config()
			cfg.HTTPClient = client
			_, err = mustProvider(t, cfg, staticKey(loadKeyPair(t, "rsa2048", true), nil)).CreateSession(context.Background())
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Message != "Invalid signature" {
				t.Fatalf("got %v, want Invalid signature", err)
			}
			rec := s.last(t)
			if rec.Allowed || (rec.Reason != emulator.ReasonSignatureMismatch && rec.Reason != emulator.ReasonPayloadHashMismatch) {
				t.Errorf("emulator verdict %v %s (%s)", rec.Allowed, rec.Reason, rec.Detail)
			}
			if n := s.emu.Count("CreateSession"); n != 1 {
				t.Errorf("%d attempts, want 1: a rejected signature is never retried", n)
			}
		})
	}
}

func TestEmulatorFaults(t *testing.T) {
	t.Parallel()
	s := startEmulator(t)
	kp := loadKeyPair(t, "ec384", true)

	t.Run("throttled once", func(t *testing.T) {
		s.reset()
		s.faults.Inject(faults.Fault{Action: "CreateSession", Kind: faults.Throttle, Times: 1})
		if _, err := mustProvider(t, s.config(), staticKey(kp, nil)).CreateSession(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := s.emu.Count("CreateSession"); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
	t.Run("connection dropped once", func(t *testing.T) {
		s.reset()
		s.faults.Inject(faults.Fault{Action: "CreateSession", Kind: faults.Disconnect, Times: 1})
		if _, err := mustProvider(t, s.config(), staticKey(kp, nil)).CreateSession(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := s.emu.Count("CreateSession"); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
	t.Run("server errors persist", func(t *testing.T) {
		s.reset()
		s.faults.Inject(faults.Fault{Action: "CreateSession", Kind: faults.ServerError})
		_, err := mustProvider(t, s.config(), staticKey(kp, nil)).CreateSession(context.Background())
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusInternalServerError {
			t.Fatalf("got %v", err)
		}
		if n := s.emu.Count("CreateSession"); n != 3 {
			t.Errorf("%d attempts, want 3", n)
		}
	})
	t.Run("clock 20 minutes slow", func(t *testing.T) {
		s.reset()
		s.faults.Inject(faults.Fault{Action: "CreateSession", Kind: faults.ClockSkew, Offset: 20 * time.Minute})
		p := mustProvider(t, s.config(), staticKey(kp, nil))
		if _, err := p.CreateSession(context.Background()); err != nil {
			t.Fatal(err)
		}
		recs := s.emu.Requests()
		if len(recs) != 2 || recs[0].Reason != emulator.ReasonClockSkew || !recs[1].Allowed {
			t.Fatalf("want a clock-skew refusal then success, got %d records", len(recs))
		}
		if off := p.ClockOffset(); off < 19*time.Minute || off > 21*time.Minute {
			t.Errorf("ClockOffset %v, want about 20m", off)
		}
	})
}

func TestEmulatorExplainsRefusals(t *testing.T) {
	t.Parallel()
	s := startEmulator(t)
	kp := loadKeyPair(t, "rsa2048", true)
	tests := []struct {
		name   string
		change func(*Config)
		reason emulator.Reason
		want   string
	}{
		{"duration over the profile", func(c *Config) { c.ProfileARN, c.DurationSeconds = s.strictProfile, 7200 },
			emulator.ReasonDurationExceedsProfile, "shorter session"},
		{"session name not accepted", func(c *Config) { c.ProfileARN, c.RoleSessionName = s.strictProfile, "alice" },
			emulator.ReasonSessionNameNotAllowed, "acceptRoleSessionName"},
		{"profile disabled", func(c *Config) { c.ProfileARN = s.disabledProfile },
			emulator.ReasonProfileDisabled, "enable it"},
		{"role not in profile", func(c *Config) { c.RoleARN = s.otherRole },
			emulator.ReasonRoleNotInProfile, "the profile lists this role"},
		{"unknown profile", func(c *Config) {
			c.ProfileARN = c.ProfileARN[:strings.LastIndex(c.ProfileARN, "/")+1] + "00000000-0000-0000-0000-000000000000"
		},
			emulator.ReasonNotFound, "check the three ARNs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.emu.Reset()
			cfg := s.config()
			tt.change(&cfg)
			_, err := mustProvider(t, cfg, staticKey(kp, nil)).CreateSession(context.Background())
			var apiErr *Error
			if !errors.As(err, &apiErr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an *Error explaining %q", err, tt.want)
			}
			if rec := s.last(t); rec.Reason != tt.reason {
				t.Errorf("emulator reason %s, want %s", rec.Reason, tt.reason)
			}
		})
	}
}
