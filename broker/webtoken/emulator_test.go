package webtoken

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/golang-jwt/jwt/v5"

	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
	"github.com/lanyard-app/lanyard/broker/keys"
	"github.com/lanyard-app/lanyard/broker/pki"
	"github.com/lanyard-app/lanyard/broker/rolesanywhere"
)

// hub is a started emulator with a Roles Anywhere identity (CA, trust
// anchor, profile, hub role) and the Roles Anywhere provider signing
// CreateSession with a PEM key, as a trial identity does.
type hub struct {
	e        *emulator.Emulator
	resolver awsenv.Resolver
	roleARN  string
	source   aws.CredentialsProvider
}

const personCN = "alice.example"

func newHub(t *testing.T) *hub {
	t.Helper()
	e, err := emulator.New(emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	env := e.Env()
	h := &hub{e: e, resolver: awsenv.Resolver{Getenv: func(k string) string { return env[k] }}}

	ca, err := pki.NewCA("Lanyard Test CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, key, err := ca.IssueWithKey(pki.LeafRequest{CommonName: personCN}, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.PrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := keys.ParsePrivateKeyPEM(keyPEM, "test key", nil)
	if err != nil {
		t.Fatal(err)
	}
	anchor := e.AddTrustAnchor("lanyard-test", "", ca.Certificate)
	h.roleARN = e.AddRole(emulator.RoleSpec{Name: "lanyard-hub", TrustRolesAnywhere: true})
	profile := e.AddProfile(emulator.ProfileSpec{Name: "lanyard-test", RoleARNs: []string{h.roleARN}, Enabled: true})
	kp := keys.KeyPair{Certificate: leaf, Signer: signer}
	ra, err := rolesanywhere.NewProvider(rolesanywhere.Config{
		TrustAnchorARN: anchor, ProfileARN: profile, RoleARN: h.roleARN, Resolver: h.resolver,
	}, func(context.Context) (keys.KeyPair, error) { return kp, nil })
	if err != nil {
		t.Fatal(err)
	}
	h.source = aws.NewCredentialsCache(ra)
	return h
}

// jwks fetches the issuer's keys the way a relying party does: discovery
// document first, then its jwks_uri.
func jwks(t *testing.T, client *http.Client, issuer string) map[string]any {
	t.Helper()
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, client, issuer+"/.well-known/openid-configuration", &discovery)
	if discovery.Issuer != issuer {
		t.Fatalf("discovery names issuer %q, want %q", discovery.Issuer, issuer)
	}
	var set struct {
		Keys []struct {
			Kty, Crv, Kid, X, Y, N, E string
		} `json:"keys"`
	}
	getJSON(t, client, discovery.JWKSURI, &set)
	out := map[string]any{}
	b := func(s string) *big.Int {
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Int).SetBytes(raw)
	}
	for _, k := range set.Keys {
		switch k.Kty {
		case "EC":
			if k.Crv != "P-384" {
				t.Fatalf("EC key on %s", k.Crv)
			}
			out[k.Kid] = &ecdsa.PublicKey{Curve: elliptic.P384(), X: b(k.X), Y: b(k.Y)}
		case "RSA":
			out[k.Kid] = &rsa.PublicKey{N: b(k.N), E: int(b(k.E).Int64())}
		}
	}
	return out
}

func getJSON(t *testing.T, client *http.Client, url string, v any) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestEmulatorTokenVerifiesAgainstTheIssuer gets a JWT for a connected
// account's session from broker/emulator and verifies it as an external
// service would: signature from the published JWKS, issuer, audience,
// expiry and subject.
func TestEmulatorTokenVerifiesAgainstTheIssuer(t *testing.T) {
	h := newHub(t)
	role := h.e.AddRole(emulator.RoleSpec{
		AccountID: "222233334444", Name: "lanyard-ci", TrustedPrincipals: []string{h.roleARN},
		ExternalID: "lanyard-external-id-for-tests", AllowSetSourceIdentity: true,
	})
	hop, err := assume.New(h.source, assume.Options{
		RoleARN: role, ExternalID: "lanyard-external-id-for-tests", RoleSessionName: "alice", Region: h.e.Region(), Resolver: h.resolver,
	})
	if err != nil {
		t.Fatal(err)
	}
	session, err := hop.Assume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keySet := jwks(t, h.e.HTTPClient(), h.e.Issuer())
	for _, alg := range []string{ES384, RS256} {
		t.Run(alg, func(t *testing.T) {
			token, expires, err := Get(context.Background(), aws.NewCredentialsCache(hop), Options{
				Audience: []string{"https://ci.example.com"}, Algorithm: alg, Duration: 2 * time.Minute,
				Tags: map[string]string{"pipeline": "deploy"}, Region: h.e.Region(), Resolver: h.resolver,
			})
			if err != nil {
				t.Fatal(err)
			}
			keyFunc := func(tok *jwt.Token) (any, error) {
				kid, _ := tok.Header["kid"].(string)
				if k, ok := keySet[kid]; ok {
					return k, nil
				}
				return nil, fmt.Errorf("no key %q in the JWKS", kid)
			}
			parsed, err := jwt.Parse(token, keyFunc, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(h.e.Issuer()),
				jwt.WithAudience("https://ci.example.com"), jwt.WithExpirationRequired())
			if err != nil {
				t.Fatalf("token does not verify: %v", err)
			}
			claims := parsed.Claims.(jwt.MapClaims)
			if sub, _ := claims.GetSubject(); !strings.HasPrefix(sub, "arn:aws:sts::222233334444:assumed-role/lanyard-ci/") {
				t.Errorf("sub = %q", sub)
			}
			if exp, _ := claims.GetExpirationTime(); exp == nil || !exp.Time.Equal(expires) || time.Until(expires) > 2*time.Minute+5*time.Second {
				t.Errorf("exp claim %v, Get said %v", exp, expires)
			}
			stsClaims, _ := claims["https://sts.amazonaws.com/"].(map[string]any)
			if stsClaims["source_identity"] != session.SourceIdentity || session.SourceIdentity != personCN {
				t.Errorf("source identity claim %v, session %q", stsClaims["source_identity"], session.SourceIdentity)
			}

			// The same check must fail for a token that was tampered with
			// or meant for someone else.
			parts := strings.Split(token, ".")
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(bytes.ReplaceAll(mustDecode(t, parts[1]), []byte("ci.example.com"), []byte("xx.example.com"))) + "." + parts[2]
			if _, err := jwt.Parse(forged, keyFunc, jwt.WithValidMethods([]string{alg})); err == nil {
				t.Error("a forged token verified")
			}
			if _, err := jwt.Parse(token, keyFunc, jwt.WithValidMethods([]string{alg}), jwt.WithAudience("https://other.example.com")); err == nil {
				t.Error("the token verified for another audience")
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
