package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/ini.v1"
)

// Profile is an account WriteProfiles writes a profile for.
type Profile struct {
	Account string
	// Region is the profile's region (the account's): the AWS CLI refuses
	// to run without one.
	Region string
}

// Lanyard is how a written profile runs lanyard.
type Lanyard struct {
	// Path is the lanyard executable.
	Path string
	// ConfigDir, when set, is passed as --config: the configuration the
	// accounts belong to is not the default one.
	ConfigDir string
}

// WriteProfiles adds to the AWS config file at awsConfigPath one profile per
// account, named after it, whose credential_process runs `PATH [--config
// DIR] credential-process --account NAME`, with the account's region. The
// new sections are appended: every byte already in the file stays as it
// was. The file is replaced atomically (a temporary file renamed over it)
// after a backup copy was written next to it; backupPath is that copy (""
// when the file did not exist yet). Nothing is written when any profile
// name is already taken.
func WriteProfiles(awsConfigPath string, profiles []Profile, lanyard Lanyard) (backupPath string, err error) {
	accounts := make([]string, len(profiles))
	for i, p := range profiles {
		accounts[i] = p.Account
	}
	if err := CheckProfiles(awsConfigPath, accounts); err != nil {
		return "", err
	}
	if len(accounts) == 0 {
		return "", errors.New("no accounts to write profiles for")
	}
	// Write through a symbolic link (dotfile managers), not over it.
	path := awsConfigPath
	if resolved, err := filepath.EvalSymlinks(awsConfigPath); err == nil {
		path = resolved
	}
	original, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cannot read %s: %w", awsConfigPath, err)
	}
	mode := fs.FileMode(0o600)
	if exists {
		fi, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("cannot read %s: %w", awsConfigPath, err)
		}
		mode = fi.Mode().Perm()
	}

	taken, err := profileNames(original)
	if err != nil {
		return "", fmt.Errorf("cannot read %s to check its profile names: %w", awsConfigPath, err)
	}
	command, err := quoteArg(lanyard.Path)
	if err != nil {
		return "", fmt.Errorf("the path to lanyard %w", err)
	}
	if lanyard.ConfigDir != "" {
		dir, err := quoteArg(lanyard.ConfigDir)
		if err != nil {
			return "", fmt.Errorf("the configuration directory %w", err)
		}
		command += " --config " + dir
	}
	var addition bytes.Buffer
	var clash []string
	seen := map[string]bool{}
	for _, p := range profiles {
		name := p.Account
		profile := ProfileName(name)
		if err := checkProfileName(profile); err != nil {
			return "", err
		}
		if taken[profile] || seen[profile] {
			clash = append(clash, profile)
			continue
		}
		seen[profile] = true
		arg, err := quoteArg(name)
		if err != nil {
			return "", fmt.Errorf("account name %w", err)
		}
		fmt.Fprintf(&addition, "\n[profile %s]\ncredential_process = %s credential-process --account %s\n", profile, command, arg)
		if p.Region != "" {
			if strings.ContainsAny(p.Region, "\r\n") {
				return "", fmt.Errorf("account %s: region %q cannot be written to a profile", name, p.Region)
			}
			fmt.Fprintf(&addition, "region = %s\n", p.Region)
		}
	}
	if len(clash) > 0 {
		return "", fmt.Errorf("%s already has a profile named %s; nothing was written (remove or rename those profiles first)", awsConfigPath, strings.Join(clash, ", "))
	}

	content := bytes.Clone(original)
	if len(content) > 0 && content[len(content)-1] != '\n' {
		content = append(content, '\n')
	}
	content = append(content, addition.Bytes()...)

	dir := filepath.Dir(path)
	if !exists {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("cannot create %s: %w", dir, err)
		}
	} else {
		backupPath = path + ".lanyard-backup-" + time.Now().UTC().Format("20060102T150405Z")
		if err := writeFileSynced(backupPath, original, mode, true); err != nil {
			return "", fmt.Errorf("cannot write the backup %s (the AWS config file was not changed): %w", backupPath, err)
		}
	}
	tmp, err := os.CreateTemp(dir, ".config-lanyard-*")
	if err != nil {
		return backupPath, fmt.Errorf("cannot write next to %s (it was not changed): %w", awsConfigPath, err)
	}
	tmpName := tmp.Name()
	tmp.Close()
	if err := writeFileSynced(tmpName, content, mode, false); err != nil {
		os.Remove(tmpName)
		return backupPath, fmt.Errorf("cannot write next to %s (it was not changed): %w", awsConfigPath, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return backupPath, fmt.Errorf("cannot replace %s (it was not changed): %w", awsConfigPath, err)
	}
	return backupPath, nil
}

// ProfileName is the AWS profile WriteProfiles adds for an account. Imported
// accounts keep their profile's name, and that profile stays as it was, so
// the Lanyard one needs a name of its own: the person switches when ready.
func ProfileName(account string) string { return "lanyard-" + account }

// CheckProfiles reports, before anything is imported, whether WriteProfiles
// could add the profiles for these accounts: none may exist already.
func CheckProfiles(awsConfigPath string, accounts []string) error {
	original, err := os.ReadFile(awsConfigPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", awsConfigPath, err)
	}
	taken, err := profileNames(original)
	if err != nil {
		return fmt.Errorf("cannot read %s to check its profile names: %w", awsConfigPath, err)
	}
	var clash []string
	for _, name := range accounts {
		if taken[ProfileName(name)] {
			clash = append(clash, ProfileName(name))
		}
	}
	if len(clash) > 0 {
		return fmt.Errorf("%s already has a profile named %s; nothing was written (remove or rename those profiles first)", awsConfigPath, strings.Join(clash, ", "))
	}
	return nil
}

func writeFileSynced(name string, data []byte, mode fs.FileMode, exclusive bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(name, flags, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// profileNames lists the profiles a config file defines.
func profileNames(data []byte) (map[string]bool, error) {
	names := map[string]bool{}
	if len(data) == 0 {
		return names, nil
	}
	text, broken := isolateBrokenHeaders(data)
	for _, b := range broken {
		// Count the name as taken: the user meant that profile to exist.
		if b.name != "" {
			names[b.name] = true
		}
	}
	file, err := ini.LoadSources(loadOptions, text)
	if err != nil {
		return nil, err
	}
	for _, sec := range file.Sections() {
		raw := sec.Name()
		switch {
		case raw == "default":
			names["default"] = true
		case strings.HasPrefix(raw, "profile ") || strings.HasPrefix(raw, "profile\t"):
			names[strings.TrimSpace(raw[len("profile "):])] = true
		}
	}
	return names, nil
}

func checkProfileName(name string) error {
	if name == "" || strings.ContainsAny(name, "[]\r\n\t") || strings.TrimSpace(name) != name {
		return fmt.Errorf("account name %q cannot be an AWS profile name", name)
	}
	return nil
}

// quoteArg quotes a word of a credential_process command when it needs it.
// Double quotes are the one quoting that the AWS CLI's splitter, sh -c (the
// Go SDK on Unix) and cmd.exe (on Windows) all read the same way, as long
// as the word holds none of the characters they treat differently.
func quoteArg(s string) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	if strings.ContainsAny(s, "\"$`!%\r\n") || strings.Contains(s, `\\`) || strings.HasSuffix(s, `\`) {
		return "", fmt.Errorf("%q contains characters that cannot be quoted safely in credential_process", s)
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:+=,@", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s, nil
	}
	return `"` + s + `"`, nil
}
