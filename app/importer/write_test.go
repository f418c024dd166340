package importer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

func writeTemp(t *testing.T, content []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, content, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// sdkProfile reads a profile the way the AWS SDK for Go does.
func sdkProfile(t *testing.T, path, profile string) awsconfig.SharedConfig {
	t.Helper()
	sc, err := awsconfig.LoadSharedConfigProfile(context.Background(), profile, func(o *awsconfig.LoadSharedConfigOptions) {
		o.ConfigFiles = []string{path}
		o.CredentialsFiles = []string{filepath.Join(t.TempDir(), "none")}
	})
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// sdkCredentialProcess reads a profile's credential_process the way the
// AWS SDK for Go does.
func sdkCredentialProcess(t *testing.T, path, profile string) string {
	t.Helper()
	return sdkProfile(t, path, profile).CredentialProcess
}

func TestWriteProfilesKeepsOriginalBytes(t *testing.T) {
	t.Parallel()
	original := readTestConfig(t)
	path := writeTemp(t, original, 0o640)
	existing := []string{"yubikey", "filekey", "vault"}
	before := map[string]string{}
	for _, p := range existing {
		before[p] = sdkCredentialProcess(t, path, p)
	}
	backup, err := WriteProfiles(path, []Profile{{Account: "prod-lanyard", Region: "eu-west-1"}, {Account: "staging-lanyard"}},
		Lanyard{Path: "/opt/My Tools/lanyard", ConfigDir: "/home/ann/work config"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(after, original) {
		t.Fatal("the original bytes were not kept as they were")
	}
	added := string(after[len(original):])
	want := "\n[profile lanyard-prod-lanyard]\ncredential_process = \"/opt/My Tools/lanyard\" --config \"/home/ann/work config\" credential-process --account prod-lanyard\nregion = eu-west-1\n" +
		"\n[profile lanyard-staging-lanyard]\ncredential_process = \"/opt/My Tools/lanyard\" --config \"/home/ann/work config\" credential-process --account staging-lanyard\n"
	if added != want {
		t.Errorf("appended %q\nwant %q", added, want)
	}
	saved, err := os.ReadFile(backup)
	if err != nil || !bytes.Equal(saved, original) {
		t.Fatalf("backup %s does not hold the original: %v", backup, err)
	}
	for _, p := range []string{path, backup} {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Errorf("%s mode %v, want the original 0640", p, fi.Mode().Perm())
		}
	}
	if got := sdkCredentialProcess(t, path, ProfileName("prod-lanyard")); got != `"/opt/My Tools/lanyard" --config "/home/ann/work config" credential-process --account prod-lanyard` {
		t.Errorf("the SDK reads credential_process as %q", got)
	}
	if got := sdkProfile(t, path, ProfileName("prod-lanyard")).Region; got != "eu-west-1" {
		t.Errorf("the SDK reads the region as %q, want eu-west-1", got)
	}
	// Everything that was there still reads the same.
	for _, p := range existing {
		if got := sdkCredentialProcess(t, path, p); got != before[p] {
			t.Errorf("profile %s now reads %q, was %q", p, got, before[p])
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestWriteProfilesRefusesExistingName(t *testing.T) {
	t.Parallel()
	original := readTestConfig(t)
	for _, name := range []string{"prod", "default", "tpm"} {
		original := append(bytes.Clone(original), []byte("\n[profile "+ProfileName(name)+"]\nregion = eu-west-1\n")...)
		path := writeTemp(t, original, 0o600)
		_, err := WriteProfiles(path, []Profile{{Account: "new-one"}, {Account: name}}, Lanyard{Path: "/usr/bin/lanyard"})
		if err == nil || !strings.Contains(err.Error(), "already has a profile named "+ProfileName(name)) {
			t.Fatalf("%s: err %v", name, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, original) {
			t.Fatalf("%s: file changed although refused", name)
		}
		if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
			t.Fatalf("%s: files written although refused: %v", name, entries)
		}
	}
}

func TestWriteProfilesEdgeFiles(t *testing.T) {
	t.Parallel()
	// No final newline: a line break is added before the new section, the
	// original bytes still lead the file.
	path := writeTemp(t, []byte("[profile a]\nregion = eu-west-1"), 0o600)
	if _, err := WriteProfiles(path, []Profile{{Account: "b"}}, Lanyard{Path: "lanyard"}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != "[profile a]\nregion = eu-west-1\n\n[profile lanyard-b]\ncredential_process = lanyard credential-process --account b\n" {
		t.Errorf("got %q", after)
	}

	// A missing file is created, with no backup.
	fresh := filepath.Join(t.TempDir(), ".aws", "config")
	backup, err := WriteProfiles(fresh, []Profile{{Account: "c"}}, Lanyard{Path: "lanyard"})
	if err != nil || backup != "" {
		t.Fatalf("backup %q err %v", backup, err)
	}
	if got := sdkCredentialProcess(t, fresh, ProfileName("c")); got != "lanyard credential-process --account c" {
		t.Errorf("got %q", got)
	}

	// Through a symbolic link the target is updated and the link kept.
	target := writeTemp(t, []byte("[default]\nregion = eu-west-1\n"), 0o600)
	link := filepath.Join(t.TempDir(), "config")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteProfiles(link, []Profile{{Account: "d"}}, Lanyard{Path: "lanyard"}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the symbolic link was replaced by a file")
	}
	if got := sdkCredentialProcess(t, target, ProfileName("d")); got != "lanyard credential-process --account d" {
		t.Errorf("target not updated: %q", got)
	}

	// Paths that cannot be quoted safely are refused.
	if _, err := WriteProfiles(target, []Profile{{Account: "e"}}, Lanyard{Path: `/opt/$HOME/lanyard`}); err == nil {
		t.Error("a path with $ was accepted")
	}
}
