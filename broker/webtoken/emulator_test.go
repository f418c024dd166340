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
	"github.com/lanyard-app/lanyard/broker/emulator/emulatortest"
)

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
			// An uncompressed point is 0x04 || X || Y, each 48 bytes on P-384.
			point := append([]byte{4}, append(b(k.X).FillBytes(make([]byte, 48)), b(k.Y).FillBytes(make([]byte, 48))...)...)
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), point)
			if err != nil {
				t.Fatalf("JWK %s: %v", k.Kid, err)
			}
			out[k.Kid] = pub
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
	t.Parallel()
	h := emulatortest.NewHub(t)
	role := h.AddTarget("lanyard-ci", true)
	hop, err := assume.New(h.Source, assume.Options{
		RoleARN: role, ExternalID: emulatortest.ExternalID, RoleSessionName: "alice", Region: h.Emulator.Region(), Resolver: h.Resolver,
	})
	if err != nil {
		t.Fatal(err)
	}
	session, err := hop.Assume(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	keySet := jwks(t, h.Emulator.HTTPClient(), h.Emulator.Issuer())
	for _, alg := range []string{ES384, RS256} {
		t.Run(alg, func(t *testing.T) {
			token, expires, err := Get(context.Background(), aws.NewCredentialsCache(hop), Options{
				Audience: []string{"https://ci.example.com"}, Algorithm: alg, Duration: 2 * time.Minute,
				Tags: map[string]string{"pipeline": "deploy"}, Region: h.Emulator.Region(), Resolver: h.Resolver,
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
			parsed, err := jwt.Parse(token, keyFunc, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(h.Emulator.Issuer()),
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
			if stsClaims["source_identity"] != session.SourceIdentity || session.SourceIdentity != emulatortest.PersonCN {
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
