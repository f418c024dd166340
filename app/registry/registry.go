// Package registry is the team registry: a shared, non-secret list of
// connected accounts that Lanyard subscribes to, kept in a team's
// repository (with a detached Ed25519 signature) or in an S3 object owned
// by the hub account. It defines the document format, decodes it strictly
// and checks signatures; fetching and merging into the config are the
// app's. The format is described in docs/registry.md.
package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/lanyard-app/lanyard/broker/awsname"
)

// Format is the value of every registry document's "format" member.
const Format = "lanyard-registry"

// Version is the document version this build reads.
const Version = 1

// Bounds on a document, checked before it is decoded.
const (
	// MaxSize is the largest document accepted: about 10,000 accounts.
	MaxSize = 4 << 20
	// MaxAccounts is the most accounts a document may list.
	MaxAccounts = 10000
	// maxTags is the most tags an account may carry (as in AWS).
	maxTags = 50
)

var (
	namePattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`) })
	ouPathPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(/[^/\x00-\x1f]+)+$`) })
	tagPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`) })
)

// Document is a team registry.
type Document struct {
	// Format must be "lanyard-registry".
	Format string `json:"format"`
	// Version is the format version (1).
	Version int `json:"version"`
	// Name names the registry; accounts remember which registry they came from.
	Name string `json:"name"`
	// HubAccount is the account of the hub role, the S3 object and the
	// ExternalId secrets.
	HubAccount string `json:"hub_account"`
	// HubRole is the default hub role ARN: the identity whose role it is
	// reaches the accounts.
	HubRole string `json:"hub_role,omitempty"`
	// Region is the default region of the accounts.
	Region string `json:"region,omitempty"`
	// Accounts are the connected accounts.
	Accounts []Account `json:"accounts"`
}

// Account is one connected account of a registry.
type Account struct {
	// Name is the account's name (also its local name, unless taken).
	Name string `json:"name"`
	// AccountID is the target account's 12-digit id.
	AccountID string `json:"account_id"`
	// RoleName is the role to assume in it.
	RoleName string `json:"role_name"`
	// RolePath is the role's IAM path, "/" when empty.
	RolePath string `json:"role_path,omitempty"`
	// Region overrides the document's region.
	Region string `json:"region,omitempty"`
	// OUPath is where the account sits in the organization, e.g. /Workloads/Prod.
	OUPath string `json:"ou_path,omitempty"`
	// Tags are shown and searched locally.
	Tags map[string]string `json:"tags,omitempty"`
	// ExternalIDSecret is the ARN of the Secrets Manager secret, in the hub
	// account, whose SecretString is the role's ExternalId.
	ExternalIDSecret string `json:"external_id_secret,omitempty"`
	// HubRole overrides the document's hub role for this account.
	HubRole string `json:"hub_role,omitempty"`
}

// EffectiveHubRole is the hub role that reaches a.
func (d *Document) EffectiveHubRole(a *Account) string {
	if a.HubRole != "" {
		return a.HubRole
	}
	return d.HubRole
}

// EffectiveRegion is a's region ("" leaves it to Lanyard's default).
func (d *Document) EffectiveRegion(a *Account) string {
	if a.Region != "" {
		return a.Region
	}
	return d.Region
}

// RoleARN is the ARN of a's role in partition.
func (a *Account) RoleARN(partition string) string {
	path := a.RolePath
	if path == "" {
		path = "/"
	}
	return arn.ARN{Partition: partition, Service: "iam", AccountID: a.AccountID, Resource: "role" + path + a.RoleName}.String()
}

// Error is a document that is malformed or invalid. Each problem says
// where (line:column, or the account) and what is wrong.
type Error struct {
	// Source names the document (a path or an s3:// URL).
	Source   string
	Problems []string
}

// Error lists the problems one per line.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Source + ": " + p)
	}
	return b.String()
}

// maxProblems bounds how many problems an Error lists.
const maxProblems = 20

// Parse decodes and validates a document. Unknown members, a second JSON
// value, a wrong type or an invalid value are errors; nothing is guessed.
func Parse(source string, data []byte) (*Document, error) {
	fail := func(msg string) error { return &Error{Source: source, Problems: []string{msg}} }
	if len(data) > MaxSize {
		return nil, fail(fmt.Sprintf("the registry is %d bytes, more than the %d MiB a registry may have", len(data), MaxSize>>20))
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err == nil {
		if head.Format != Format {
			return nil, fail(fmt.Sprintf("\"format\" is %q: not a Lanyard team registry (want %q)", clip(head.Format), Format))
		}
		if head.Version > Version {
			return nil, fail(fmt.Sprintf("version %d was written for a newer Lanyard (this one reads version %d); upgrade Lanyard", head.Version, Version))
		}
	}
	var d Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fail(decodeProblem(data, dec, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(at(data, dec.InputOffset()) + "more data after the registry's closing }")
	}
	if probs := d.validate(); len(probs) > 0 {
		return nil, &Error{Source: source, Problems: probs}
	}
	return &d, nil
}

// decodeProblem turns a decoding error into line:column and a message.
func decodeProblem(data []byte, dec *json.Decoder, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return at(data, syn.Offset-1) + syn.Error()
	case errors.As(err, &typ):
		return at(data, typ.Offset) + fmt.Sprintf("%q must be a %s, not a %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return "the registry is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the registry ends in the middle of a value"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	offset := dec.InputOffset()
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		// The decoder reports an unknown member once its object is read:
		// point at the member itself.
		if loc := regexp.MustCompile(regexp.QuoteMeta(name) + `\s*:`).FindIndex(data); loc != nil {
			offset = int64(loc[0])
		}
		msg += " (misspelt, or for a newer Lanyard?)"
		if strings.Contains(msg, `"external_id"`) {
			msg += "; ExternalIds are secrets and never go in a registry: name a Secrets Manager secret with \"external_id_secret\""
		}
	}
	return at(data, offset) + clip(msg)
}

// at is "line L, column C: " for a byte offset.
func at(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return fmt.Sprintf("line %d, column %d: ", line, col)
}

func (d *Document) validate() []string {
	var probs []string
	add := func(format string, args ...any) {
		if len(probs) < maxProblems {
			probs = append(probs, clip(fmt.Sprintf(format, args...)))
		}
	}
	if d.Version != Version {
		add("\"version\" is %d: this Lanyard reads version %d", d.Version, Version)
	}
	if !namePattern().MatchString(d.Name) {
		add("\"name\" %q must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", d.Name)
	}
	if !awsname.IsAccountID(d.HubAccount) {
		add("\"hub_account\" %q must be 12 digits", d.HubAccount)
	}
	partition := ""
	if d.HubRole != "" {
		partition = d.checkHubRole("\"hub_role\"", d.HubRole, add)
	}
	if d.Region != "" && !awsname.IsRegion(d.Region) {
		add("\"region\" %q is not an AWS region name like eu-central-1", d.Region)
	}
	if len(d.Accounts) > MaxAccounts {
		add("%d accounts: a registry lists at most %d", len(d.Accounts), MaxAccounts)
		return probs
	}
	seen := make(map[string]bool, len(d.Accounts))
	for i := range d.Accounts {
		a := &d.Accounts[i]
		label := fmt.Sprintf("account #%d", i+1)
		if namePattern().MatchString(a.Name) {
			label = fmt.Sprintf("account %q", a.Name)
		} else {
			add("%s: \"name\" %q must be 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit", label, a.Name)
		}
		if seen[a.Name] {
			add("%s: another account has the same name", label)
		}
		seen[a.Name] = true
		if !awsname.IsAccountID(a.AccountID) {
			add("%s: \"account_id\" %q must be 12 digits", label, a.AccountID)
		}
		if !awsname.IsRoleName(a.RoleName) {
			add("%s: \"role_name\" %q must be 1–64 letters, digits and + = , . @ _ -", label, a.RoleName)
		}
		if a.RolePath != "" && !awsname.IsRolePath(a.RolePath) {
			add("%s: \"role_path\" %q must start and end with / (e.g. /ops/)", label, a.RolePath)
		}
		if a.Region != "" && !awsname.IsRegion(a.Region) {
			add("%s: \"region\" %q is not an AWS region name like eu-central-1", label, a.Region)
		}
		if a.OUPath != "" && (len(a.OUPath) > 1024 || !ouPathPattern().MatchString(a.OUPath)) {
			add("%s: \"ou_path\" %q must look like /Workloads/Prod", label, a.OUPath)
		}
		if len(a.Tags) > maxTags {
			add("%s: %d tags, at most %d", label, len(a.Tags), maxTags)
		}
		for k, v := range a.Tags {
			if k == "" || len(k) > 128 || len(v) > 256 || !tagPattern().MatchString(k) || !tagPattern().MatchString(v) {
				add("%s: tag %q=%q: keys are 1–128 and values 0–256 letters, digits, spaces and _ . : / = + - @", label, k, v)
			}
		}
		p := partition
		if a.HubRole != "" {
			p = d.checkHubRole(label+": \"hub_role\"", a.HubRole, add)
		}
		if a.ExternalIDSecret != "" {
			d.checkSecret(label, a.ExternalIDSecret, p, add)
		}
	}
	return probs
}

// checkHubRole checks a hub role ARN is a role in the hub account and
// returns its partition.
func (d *Document) checkHubRole(label, s string, add func(string, ...any)) string {
	r, err := arn.Parse(s)
	if err != nil || r.Service != "iam" || !strings.HasPrefix(r.Resource, "role/") || !awsname.IsPartition(r.Partition) {
		add("%s %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", label, s)
		return ""
	}
	if r.AccountID != d.HubAccount {
		add("%s %s is in account %s, not the hub account %s", label, s, r.AccountID, d.HubAccount)
	}
	return r.Partition
}

// checkSecret checks an ExternalId secret is a Secrets Manager secret ARN
// in the hub account: the registry may only send Lanyard to read secrets
// there, with the hub role's credentials.
func (d *Document) checkSecret(label, s, partition string, add func(string, ...any)) {
	r, err := arn.Parse(s)
	if err != nil || r.Service != "secretsmanager" || !strings.HasPrefix(r.Resource, "secret:") || len(r.Resource) <= len("secret:") || !awsname.IsRegion(r.Region) {
		add("%s: \"external_id_secret\" %q is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)", label, s)
		return
	}
	if r.AccountID != d.HubAccount {
		add("%s: \"external_id_secret\" is in account %s, not the hub account %s", label, r.AccountID, d.HubAccount)
	}
	if partition != "" && r.Partition != partition {
		add("%s: \"external_id_secret\" is in partition %s, the hub role in %s", label, r.Partition, partition)
	}
}

// clip keeps a message on one line and short: it may quote the document.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > 240 {
		s = strings.ToValidUTF8(s[:240], "") + "…"
	}
	return s
}
