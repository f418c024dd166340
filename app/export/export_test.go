package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
)

var expires = time.Date(2026, 11, 22, 4, 5, 6, 0, time.FixedZone("CET", 3600))

func realisticCreds() aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     "ASIAZ3EXAMPLE7QWERTY",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY",
		SessionToken:    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample+token/with==",
		CanExpire:       true,
		Expires:         expires,
	}
}

// adversarial values a shell must take literally.
var adversarial = []string{
	`plain`,
	`it's`,
	`''`,
	`'\''`,
	`\`,
	`a\\b\'c`,
	`$(touch pwned)`,
	"`touch pwned`",
	`${HOME}$HOME$$`,
	`"; touch pwned; echo "`,
	`'; touch pwned; echo '`,
	"line1\nline2\n",
	"\n; touch pwned",
	"tab\there",
	"cr\rhere",
	`spaces  and   more `,
	` leading`,
	`# not a comment`,
	`; & | < > ( ) { } [ ] * ? ~ ! %PATH% ^`,
	"unicode: żółć ☃ 𝄞 日本",
	"typographic ‘quotes’ ‚and‛ \u2019",
	`-n`,
	`=`,
	`%s%n`,
	"",
}

func credsWith(v string) aws.Credentials {
	return aws.Credentials{
		AccessKeyID:     "ASIAZ3EXAMPLE7QWERTY",
		SecretAccessKey: "k" + v,
		SessionToken:    v,
		CanExpire:       true,
		Expires:         expires,
	}
}

func wantVars(v, region string) map[string]string {
	m := map[string]string{
		VarAccessKeyID:     "ASIAZ3EXAMPLE7QWERTY",
		VarSecretAccessKey: "k" + v,
		VarExpiration:      "2026-11-22T03:05:06Z",
	}
	if v != "" {
		m[VarSessionToken] = v
	}
	if region != "" {
		m[VarRegion] = region
		m[VarDefaultRegion] = region
	}
	return m
}

// refused reports whether format must refuse value, and checks the error.
func refused(format, value string) bool {
	if !utf8.ValidString(value) || strings.IndexByte(value, 0) >= 0 {
		return true
	}
	switch format {
	case "cmd":
		return strings.IndexFunc(value, cmdUnsafe) >= 0
	case "dotenv":
		return strings.ContainsAny(value, dotenvUnsafe)
	}
	return false
}

func TestEnvRealisticAllFormats(t *testing.T) {
	t.Parallel()
	c := realisticCreds()
	want := map[string]string{
		VarAccessKeyID:     c.AccessKeyID,
		VarSecretAccessKey: c.SecretAccessKey,
		VarSessionToken:    c.SessionToken,
		VarRegion:          "eu-central-1",
		VarDefaultRegion:   "eu-central-1",
		VarExpiration:      "2026-11-22T03:05:06Z",
	}
	for _, f := range Formats {
		out, err := Env(c, "eu-central-1", f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		got, err := parse(f, out)
		if err != nil {
			t.Fatalf("%s: reading back %q: %v", f, out, err)
		}
		assertVars(t, f, got, want)
	}
}

func TestEnvGoldenLines(t *testing.T) {
	t.Parallel()
	c := aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "it's"}
	cases := map[string]string{
		"sh":         "export AWS_ACCESS_KEY_ID='AKID'\nexport AWS_SECRET_ACCESS_KEY='it'\\''s'\n",
		"bash":       "export AWS_ACCESS_KEY_ID='AKID'\nexport AWS_SECRET_ACCESS_KEY='it'\\''s'\n",
		"fish":       "set -gx AWS_ACCESS_KEY_ID 'AKID'\nset -gx AWS_SECRET_ACCESS_KEY 'it\\'s'\n",
		"powershell": "$Env:AWS_ACCESS_KEY_ID = 'AKID'\n$Env:AWS_SECRET_ACCESS_KEY = 'it''s'\n",
		"json":       "{\n  \"AWS_ACCESS_KEY_ID\": \"AKID\",\n  \"AWS_SECRET_ACCESS_KEY\": \"it's\"\n}\n",
	}
	for f, want := range cases {
		got, err := Env(c, "", f)
		if err != nil || got != want {
			t.Errorf("%s:\n got %q, %v\nwant %q", f, got, err, want)
		}
	}
}

func TestEnvRefusesWhatCmdAndDotenvCannotHold(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	for _, tc := range []struct{ format, value string }{
		{"cmd", secret + "%PATH%"}, {"cmd", secret + "!x!"}, {"cmd", secret + `"`}, {"cmd", secret + "^"},
		{"cmd", secret + "&calc"}, {"cmd", secret + "|x"}, {"cmd", secret + "<x"}, {"cmd", secret + ">x"},
		{"cmd", secret + "\nx"}, {"cmd", secret + "\rx"}, {"cmd", secret + "\x1a"}, {"cmd", secret + "é"},
		{"dotenv", secret + "'"}, {"dotenv", secret + `\`}, {"dotenv", secret + "\n"},
		{"sh", secret + "\x00"}, {"json", secret + "\xff"},
	} {
		_, err := Env(credsWith(tc.value), "", tc.format)
		if !errors.Is(err, ErrUnsafeValue) {
			t.Errorf("%s %q: got %v, want ErrUnsafeValue", tc.format, tc.value, err)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error repeats the secret: %v", tc.format, err)
		}
	}
}

func TestEnvUnknownFormatAndEmptyCredentials(t *testing.T) {
	t.Parallel()
	if _, err := Env(realisticCreds(), "", "tcsh"); err == nil || !strings.Contains(err.Error(), "powershell") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := Env(aws.Credentials{}, "", "sh"); err == nil {
		t.Error("empty credentials were exported")
	}
}

// TestEnvInRealShells sources the output in the shells that read it and
// compares the environment they export with the values byte for byte.
func TestEnvInRealShells(t *testing.T) {
	t.Parallel()
	shells := []struct {
		name, format string
		argv         []string
	}{
		{"bash", "sh", []string{"/bin/bash", "--norc", "--noprofile", "-c", `. "$LANYARD_OUT" && exec env -0`}},
		{"dash", "sh", []string{"/bin/dash", "-c", `. "$LANYARD_OUT" && exec env -0`}},
		{"fish", "fish", []string{"/usr/bin/fish", "--no-config", "-c", `source $LANYARD_OUT; and exec env -0`}},
		{"dotenv-bash", "dotenv", []string{"/bin/bash", "--norc", "--noprofile", "-c", `set -a; . "$LANYARD_OUT" && exec env -0`}},
	}
	for _, sh := range shells {
		if _, err := os.Stat(sh.argv[0]); err != nil {
			t.Fatalf("%s is required for this test: %v", sh.argv[0], err)
		}
		t.Run(sh.name, func(t *testing.T) {
			for _, v := range append(adversarial, fuzzSeeds(t)...) {
				if refused(sh.format, v) {
					continue
				}
				dir := t.TempDir()
				out, err := Env(credsWith(v), "eu-west-1", sh.format)
				if err != nil {
					t.Fatalf("%q: %v", v, err)
				}
				file := filepath.Join(dir, "creds")
				if err := os.WriteFile(file, []byte(out), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(sh.argv[0], sh.argv[1:]...)
				cmd.Dir = dir
				cmd.Env = []string{"LANYARD_OUT=" + file, "LANG=C.UTF-8", "HOME=" + dir, "PATH=/usr/bin:/bin"}
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				env, err := cmd.Output()
				if err != nil {
					t.Fatalf("%q: %v\n%s\nscript:\n%s", v, err, stderr.String(), out)
				}
				got := map[string]string{}
				for _, kv := range strings.Split(string(env), "\x00") {
					if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "AWS_") {
						got[name] = value
					}
				}
				assertVars(t, sh.name+" "+strconv.Quote(v), got, wantVars(v, "eu-west-1"))
				if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
					t.Fatalf("%q: the value ran as a command", v)
				}
			}
		})
	}
}

func assertVars(t *testing.T, label string, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s = %q, want %q", label, k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected variable %s", label, k)
		}
	}
}

// fuzzSeeds returns the string seeds of FuzzShellQuoting so the real shells
// check the same corpus.
func fuzzSeeds(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/fuzz/FuzzShellQuoting/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fuzz seeds: %v", err)
	}
	var seeds []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, arg, ok := strings.Cut(string(b), "\nstring(")
		if !ok {
			t.Fatalf("%s: not a string seed", f)
		}
		s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(arg), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		seeds = append(seeds, s)
	}
	return seeds
}

// FuzzShellQuoting checks that, for any value, every format either refuses it
// with ErrUnsafeValue (only where documented) or writes it so that the
// format's reader recovers it exactly.
func FuzzShellQuoting(f *testing.F) {
	for _, v := range adversarial {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, format := range Formats {
			out, err := Env(credsWith(v), v, format)
			if refused(format, v) {
				if !errors.Is(err, ErrUnsafeValue) {
					t.Fatalf("%s %q: got %v, want ErrUnsafeValue", format, v, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s %q: %v", format, v, err)
			}
			got, err := parse(format, out)
			if err != nil {
				t.Fatalf("%s %q: reading back %q: %v", format, v, out, err)
			}
			assertVars(t, format, got, wantVars(v, v))
		}
	})
}

func TestCredentialProcess(t *testing.T) {
	t.Parallel()
	c := realisticCreds()
	b, err := CredentialProcess(c)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Version": 1.0, "AccessKeyId": c.AccessKeyID, "SecretAccessKey": c.SecretAccessKey,
		"SessionToken": c.SessionToken, "Expiration": "2026-11-22T03:05:06Z",
	}
	assertJSON(t, got, want)

	b, err = CredentialProcess(aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"s"}` {
		t.Errorf("non-expiring credentials: %s", b)
	}
	if _, err := CredentialProcess(aws.Credentials{}); err == nil {
		t.Error("empty credentials accepted")
	}
}

func assertJSON(t *testing.T, got, want map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got keys %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}
