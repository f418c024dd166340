package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/broker/assume"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// SyncOptions choose what applying a discovery connects.
type SyncOptions struct {
	// Connect offers the active accounts not yet connected for connection;
	// without it a sync only refreshes what is connected.
	Connect bool
	// OU limits the accounts connected to those at or under an OU path
	// ("Root/Workloads", or "Workloads" for short); empty means all.
	OU string
	// RoleName is the role to assume in each account (DefaultRoleName when
	// empty), deployed with the same-organization trust: no ExternalId.
	RoleName string
	// Identity is the identity whose hub role assumes it (default: the
	// discovering account's).
	Identity string
	// Region is the new accounts' region (empty: the identity's).
	Region string
	// Accounts, when not empty, limits the accounts connected to these
	// ids: the ones a person ticked in a list.
	Accounts []string
}

// SyncPlan is what applying a discovery would change.
type SyncPlan struct {
	// Discovery is what the organization said.
	Discovery *Discovery
	// Connect are the accounts to connect, named and not yet verified.
	Connect []config.Account
	// Offered are active accounts not connected and not chosen.
	Offered []OrgAccount
	// Inactive are suspended, closing or closed accounts not connected:
	// shown, never connected.
	Inactive []OrgAccount
	// Changed names connected accounts whose OU path, tags or state
	// changed; Left those the organization no longer has (flagged, never
	// removed).
	Changed []string
	Left    []string
	// Unchanged counts connected accounts the discovery confirmed as they are.
	Unchanged int
}

// NormalizeOUPath writes an OU path the way discoveries do: "Root/…",
// no empty or trailing parts.
func NormalizeOUPath(p string) string {
	var parts []string
	for _, s := range strings.Split(p, "/") {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 || parts[0] != "Root" {
		parts = append([]string{"Root"}, parts...)
	}
	return strings.Join(parts, "/")
}

// underOU reports whether path is ou or inside it.
func underOU(path, ou string) bool {
	return ou == "" || path == ou || strings.HasPrefix(path, ou+"/")
}

// PlanSync compares a discovery with the configuration. Nothing is saved.
func (a *Setup) PlanSync(d *Discovery, o SyncOptions) (*SyncPlan, error) {
	cfg := a.Config()
	from := cfg.Account(d.From)
	if from == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownAccount, d.From)
	}
	if o.Identity == "" {
		o.Identity = from.Identity
	}
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if o.OU != "" {
		o.OU = NormalizeOUPath(o.OU)
	}
	if o.Connect {
		if cfg.Identity(o.Identity) == nil {
			return nil, fmt.Errorf("%w %q", ErrUnknownIdentity, o.Identity)
		}
		if err := CheckRoleName(o.RoleName); err != nil {
			return nil, fmt.Errorf("role name %q: %w", o.RoleName, err)
		}
		if o.Region != "" && !awsname.IsRegion(o.Region) {
			return nil, fmt.Errorf("region %q is not an AWS region name like eu-central-1", o.Region)
		}
	}
	plan := &SyncPlan{Discovery: d}
	connected := map[string][]*config.Account{}
	for i := range cfg.Accounts {
		c := &cfg.Accounts[i]
		connected[c.AccountID] = append(connected[c.AccountID], c)
	}
	found := map[string]bool{}
	names := map[string]bool{}
	for _, c := range cfg.Accounts {
		names[c.Name] = true
	}
	ouSeen := o.OU == ""
	chosen := map[string]bool{}
	for _, id := range o.Accounts {
		chosen[id] = true
	}
	for _, m := range d.Accounts {
		found[m.ID] = true
		ouSeen = ouSeen || underOU(m.OUPath, o.OU)
		if have := connected[m.ID]; len(have) > 0 {
			for _, c := range have {
				if orgFieldsOf(*c) != orgFieldsOf(withOrg(*c, d.OrgID, m)) {
					plan.Changed = append(plan.Changed, c.Name)
				} else {
					plan.Unchanged++
				}
			}
			continue
		}
		switch {
		case m.State != config.OrgActive:
			plan.Inactive = append(plan.Inactive, m)
		case o.Connect && underOU(m.OUPath, o.OU) && (len(chosen) == 0 || chosen[m.ID]):
			roleARN, err := a.orgRoleARN(o.Identity, m.ID, o.RoleName)
			if err != nil {
				return nil, err
			}
			name := uniqueName(AccountNameFor(m.Name, m.ID), m.ID, names)
			names[name] = true
			plan.Connect = append(plan.Connect, withOrg(config.Account{Name: name, AccountID: m.ID, RoleARN: roleARN,
				Identity: o.Identity, Region: o.Region, OrgTrust: true}, d.OrgID, m))
		default:
			plan.Offered = append(plan.Offered, m)
		}
	}
	if !ouSeen {
		return nil, fmt.Errorf("no account of the organization is in %s: the OU paths are like Root/Workloads/Prod", o.OU)
	}
	for _, id := range o.Accounts {
		if !found[id] {
			return nil, fmt.Errorf("account %s is not in the organization (any more): discover again", id)
		}
	}
	for _, c := range cfg.Accounts {
		if c.Organization == d.OrgID && !found[c.AccountID] && c.OrgState != config.OrgLeft {
			plan.Left = append(plan.Left, c.Name)
		}
	}
	return plan, nil
}

// orgFields is what a sync may change of a connected account.
type orgFields struct{ org, path, state, tags string }

func orgFieldsOf(c config.Account) orgFields {
	var tags []string
	for k, v := range c.OrgTags {
		tags = append(tags, k+"="+v)
	}
	return orgFields{c.Organization, c.OUPath, c.OrgState, strings.Join(slices.Sorted(slices.Values(tags)), "\x00")}
}

// withOrg sets what the organization says of an account, and nothing the
// person may have edited (name, favourite, colour, region, tags).
func withOrg(c config.Account, orgID string, m OrgAccount) config.Account {
	c.Organization, c.OUPath, c.OrgState, c.OrgTags = orgID, m.OUPath, m.State, maps.Clone(m.Tags)
	if len(c.OrgTags) == 0 {
		c.OrgTags = nil
	}
	return c
}

// orgRoleARN is the role's ARN in a member account, in the identity's partition.
func (a *Setup) orgRoleARN(identity, accountID, roleName string) (string, error) {
	id, ok := a.identityConfig(identity)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownIdentity, identity)
	}
	hub, err := arn.Parse(id.RoleARN)
	if err != nil {
		return "", fmt.Errorf("identity %q: role ARN: %w", identity, err)
	}
	return arn.ARN{Partition: hub.Partition, Service: "iam", AccountID: accountID, Resource: "role/" + roleName}.String(), nil
}

// AccountNameFor makes an organization's account name a valid, readable
// Lanyard name: letters, digits, '.', '_' and '-', at most 64, starting
// with a letter or digit ("Prod Payments (EU)" → "Prod-Payments-EU").
// An account whose name has nothing usable is named after its id.
func AccountNameFor(orgName, accountID string) string {
	var b strings.Builder
	dash := false
	for _, r := range orgName {
		ok := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		switch {
		case ok && !(r == '-' && dash):
			b.WriteRune(r)
			dash = r == '-'
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimLeft(strings.TrimRight(b.String(), "-._"), "-._")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-._")
	}
	if s == "" {
		return "aws-" + accountID
	}
	return s
}

// uniqueName returns name, or name with the account id (then a counter)
// appended when another account has it.
func uniqueName(name, accountID string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	suffix := "-" + accountID
	for n := 1; ; n++ {
		base := name
		if len(base)+len(suffix) > 64 {
			base = strings.TrimRight(base[:64-len(suffix)], "-._")
		}
		if cand := base + suffix; !taken[cand] {
			return cand
		}
		suffix = fmt.Sprintf("-%s-%d", accountID, n+1)
	}
}

// VerifyOutcome is one account of a bulk verification.
type VerifyOutcome struct {
	// Account is the account's name; AccountID its id.
	Account   string
	AccountID string
	// Err is why it failed (nil when the role was assumed and GetCallerIdentity named the account).
	Err error
}

// VerifyProgress is reported after each account of a bulk verification.
type VerifyProgress struct {
	// Done of Total accounts are finished, Failed of them failed.
	Done, Total, Failed int
	// Last is the account just finished.
	Last VerifyOutcome
}

// DefaultVerifyConcurrency is how many accounts a bulk verification
// checks at once: enough to hide STS's round trips, few enough not to be
// throttled.
const DefaultVerifyConcurrency = 16

// VerifyMany verifies accounts (saved or not) the way `account verify`
// does — AssumeRole with the account's ExternalId, if any, then
// GetCallerIdentity must name its id — at most concurrency at once.
// progress, when not nil, is called after each account, from one
// goroutine at a time. Outcomes are in the order of accts.
func (a *Setup) VerifyMany(ctx context.Context, accts []config.Account, concurrency int, progress func(VerifyProgress)) []VerifyOutcome {
	if concurrency < 1 {
		concurrency = DefaultVerifyConcurrency
	}
	out := make([]VerifyOutcome, len(accts))
	var mu sync.Mutex
	p := VerifyProgress{Total: len(accts)}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i := range accts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c := accts[i]
			res := VerifyOutcome{Account: c.Name, AccountID: c.AccountID}
			if err := ctx.Err(); err != nil {
				res.Err = err
			} else {
				res.Err = a.verifyConfigured(ctx, c)
			}
			out[i] = res
			mu.Lock()
			defer mu.Unlock()
			p.Done++
			if res.Err != nil {
				p.Failed++
			}
			p.Last = res
			if progress != nil {
				progress(p)
			}
		}()
	}
	wg.Wait()
	return out
}

// verifyConfigured verifies an account described by its configuration.
func (a *Setup) verifyConfigured(ctx context.Context, c config.Account) error {
	ext := ""
	if c.HasExternalID {
		var err error
		if ext, err = a.ExternalID(c.Name); err != nil {
			return err
		}
	}
	region := c.Region
	if region == "" {
		region = a.Config().EffectiveRegion(&c)
	}
	if c.Direct {
		_, err := a.VerifySaved(ctx, c.Name)
		return err
	}
	_, err := a.verifyRole(ctx, c.Name, c.Identity, c.RoleARN, c.AccountID, ext, region, c.SessionTags, c.TransitiveTags)
	var api smithy.APIError
	if c.OrgTrust && errors.As(err, &api) && api.ErrorCode() == "AccessDenied" {
		// The generic advice is about ExternalIds; this role has none.
		hub := "the identity's role"
		if id, ok := a.identityConfig(c.Identity); ok {
			hub = id.RoleARN
		}
		name := c.RoleARN[strings.LastIndex(c.RoleARN, "/")+1:]
		return &assume.Error{Op: "assume " + c.RoleARN, Err: err, Reason: fmt.Sprintf(
			"access denied: account %s has no role %s trusting %s for the organization: deploy the organization's StackSet to its OU (or check --role), then discover again",
			c.AccountID, name, hub)}
	}
	return err
}

// SyncResult is what ApplySync saved.
type SyncResult struct {
	// Connected are the accounts added; Failed those whose verification failed (not saved).
	Connected []string
	Failed    []VerifyOutcome
	// Changed and Left are the connected accounts updated and flagged.
	Changed []string
	Left    []string
}

// ApplySync verifies the plan's new accounts (VerifyMany) and saves, in
// one edit, those that passed together with the OU paths, tags and states
// of the connected accounts, flagging those that left the organization.
// Nothing a person set (names, favourites, colours, regions, labels) is
// touched, and no account is removed.
func (a *Setup) ApplySync(ctx context.Context, plan *SyncPlan, concurrency int, progress func(VerifyProgress)) (*SyncResult, error) {
	res := &SyncResult{}
	var ok []config.Account
	for i, v := range a.VerifyMany(ctx, plan.Connect, concurrency, progress) {
		if v.Err != nil {
			res.Failed = append(res.Failed, v)
			continue
		}
		ok = append(ok, plan.Connect[i])
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	d := plan.Discovery
	byID := map[string]OrgAccount{}
	for _, m := range d.Accounts {
		byID[m.ID] = m
	}
	err := a.edit(func(c *config.Config) error {
		res.Changed, res.Left, res.Connected = nil, nil, nil
		for i := range c.Accounts {
			acct := &c.Accounts[i]
			if m, found := byID[acct.AccountID]; found {
				if updated := withOrg(*acct, d.OrgID, m); orgFieldsOf(updated) != orgFieldsOf(*acct) {
					*acct = updated
					res.Changed = append(res.Changed, acct.Name)
				}
			} else if acct.Organization == d.OrgID && acct.OrgState != config.OrgLeft {
				acct.OrgState = config.OrgLeft
				res.Left = append(res.Left, acct.Name)
			}
		}
		for _, n := range ok {
			if c.Account(n.Name) != nil {
				return fmt.Errorf("an account named %q was added meanwhile: discover again", n.Name)
			}
			c.Accounts = append(c.Accounts, n)
			res.Connected = append(res.Connected, n.Name)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	a.record("", d.From, "discover-sync", "ok", fmt.Sprintf("%d connected, %d failed, %d updated, %d left", len(res.Connected), len(res.Failed), len(res.Changed), len(res.Left)))
	return res, nil
}
