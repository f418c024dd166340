package emulator

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/golang-jwt/jwt/v5"
)

// fetchJWKS reads the issuer's discovery document and key set the way a
// relying party does, and returns the keys by kid.
func fetchJWKS(t *testing.T, e *Emulator) map[string]any {
	t.Helper()
	client := e.HTTPClient()
	get := func(url string, v any) {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", url, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	get(e.URL()+"/.well-known/openid-configuration", &discovery)
	if discovery.Issuer != e.Issuer() {
		t.Fatalf("issuer %q, want %q", discovery.Issuer, e.Issuer())
	}
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	get(discovery.JWKSURI, &set)
	b64 := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	keys := map[string]any{}
	for _, k := range set.Keys {
		switch k["kty"] {
		case "EC":
			pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P384(), append(append([]byte{4}, b64(k["x"])...), b64(k["y"])...))
			if err != nil {
				t.Fatal(err)
			}
			keys[k["kid"]] = pub
		case "RSA":
			keys[k["kid"]] = &rsa.PublicKey{N: new(big.Int).SetBytes(b64(k["n"])), E: int(new(big.Int).SetBytes(b64(k["e"])).Int64())}
		}
	}
	if len(keys) != 2 {
		t.Fatalf("JWKS has %d keys, want ES384 and RS256", len(keys))
	}
	return keys
}

func TestGetWebIdentityTokenVerifiesAgainstJWKS(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	client := stsClient(f.e, f.session())
	keys := fetchJWKS(t, f.e)
	for _, alg := range []string{"ES384", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			out, err := client.GetWebIdentityToken(context.Background(), &sts.GetWebIdentityTokenInput{
				Audience:         []string{"https://api.example.com", "second"},
				SigningAlgorithm: aws.String(alg),
				DurationSeconds:  aws.Int32(600),
				Tags:             []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := jwt.Parse(aws.ToString(out.WebIdentityToken), func(tok *jwt.Token) (any, error) {
				return keys[tok.Header["kid"].(string)], nil
			}, jwt.WithValidMethods([]string{alg}), jwt.WithIssuer(f.e.Issuer()), jwt.WithAudience("second"), jwt.WithExpirationRequired())
			if err != nil {
				t.Fatalf("token does not verify against the JWKS: %v", err)
			}
			claims := tok.Claims.(jwt.MapClaims)
			sub, _ := claims.GetSubject()
			rec, _ := f.e.Last("CreateSession")
			if sub != rec.Principal {
				t.Errorf("sub %q, want caller %q", sub, rec.Principal)
			}
			exp, _ := claims.GetExpirationTime()
			iat, _ := claims.GetIssuedAt()
			if exp.Sub(iat.Time) != 600*time.Second || !exp.Time.Equal(aws.ToTime(out.Expiration)) {
				t.Errorf("exp %s iat %s expiration %s", exp, iat, aws.ToTime(out.Expiration))
			}
			if claims["jti"] == "" {
				t.Error("no jti")
			}
			awsClaims, _ := claims["https://sts.amazonaws.com/"].(map[string]any)
			if awsClaims["source_identity"] != "alice@example.com" || awsClaims["request_tags"].(map[string]any)["team"] != "blue" {
				t.Errorf("aws claims %v", awsClaims)
			}
		})
	}
}

func TestGetWebIdentityTokenValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	client := stsClient(f.e, f.session())
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "aud"
	}
	cases := map[string]*sts.GetWebIdentityTokenInput{
		"eleven audiences":   {Audience: eleven, SigningAlgorithm: aws.String("ES384")},
		"unknown algorithm":  {Audience: []string{"a"}, SigningAlgorithm: aws.String("HS256")},
		"duration too short": {Audience: []string{"a"}, SigningAlgorithm: aws.String("ES384"), DurationSeconds: aws.Int32(59)},
		"duration too long":  {Audience: []string{"a"}, SigningAlgorithm: aws.String("RS256"), DurationSeconds: aws.Int32(3601)},
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := client.GetWebIdentityToken(context.Background(), in)
			if err == nil {
				t.Fatal("accepted")
			}
			if code, _, status := apiError(t, err); code != "ValidationError" || status != 400 {
				t.Fatalf("got %s %d", code, status)
			}
			if rec, _ := f.e.Last("GetWebIdentityToken"); rec.Allowed || rec.Status != 400 {
				t.Errorf("recorded %+v", rec)
			}
		})
	}
	// A default-duration token lasts 300 seconds.
	out, err := client.GetWebIdentityToken(context.Background(), &sts.GetWebIdentityTokenInput{Audience: []string{"a"}, SigningAlgorithm: aws.String("ES384")})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(aws.ToTime(out.Expiration)); d < 290*time.Second || d > 300*time.Second {
		t.Errorf("default duration %s", d)
	}
}
