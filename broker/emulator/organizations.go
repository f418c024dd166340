package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ServiceOrganizations is AWS Organizations, in Record.Service and in the
// SigV4 credential scope.
const ServiceOrganizations = "organizations"

// orgTargetPrefix starts the X-Amz-Target header of every Organizations
// call (JSON 1.1 protocol: POST / with the operation in that header).
const orgTargetPrefix = "AWSOrganizationsV20161128."

// Reasons an Organizations call is refused.
const (
	// ReasonNotInOrganization: the caller's account is in no organization.
	ReasonNotInOrganization Reason = "NotInOrganization"
	// ReasonNotManagementAccount: only the management account may list the
	// organization.
	ReasonNotManagementAccount Reason = "NotManagementAccount"
	// ReasonActionNotAllowed: the caller's role grants no permission for
	// the action (RoleSpec.Allow).
	ReasonActionNotAllowed Reason = "ActionNotAllowed"
)

// Account states of an organization's member, as the State field of
// ListAccounts reports them.
const (
	AccountActive         = "ACTIVE"
	AccountSuspended      = "SUSPENDED"
	AccountPendingClosure = "PENDING_CLOSURE"
	AccountClosed         = "CLOSED"
)

// orgPageSize is the largest MaxResults the List operations accept, and
// the page size when the caller sends none.
const orgPageSize = 20

// Organization is the emulator's AWS Organization: a root, nested OUs and
// member accounts with tags. Build it with Emulator.CreateOrganization;
// every method is safe for concurrent use and takes effect at once.
type Organization struct {
	e *Emulator
	// The fields below are guarded by e.mu.
	id       string
	mgmt     string
	rootID   string
	parents  map[string]*orgParent // root and OUs, by id
	accounts map[string]*orgAccount
	// order is every account id in the order added, for ListAccounts.
	order []string
	// admins are the delegated administrators: members that may list the
	// organization as the management account does.
	admins map[string]bool
}

// orgParent is the root or an OU.
type orgParent struct {
	id, name, parent string
	ous              []string
	accounts         []string
	tags             map[string]string
}

type orgAccount struct {
	id, name, email, parent, state string
	joined                         time.Time
	tags                           map[string]string
}

// CreateOrganization makes the organization whose management account is
// managementAccountID (added to its root, named "Management") and returns
// it. The emulator serves one organization; a second call replaces it.
func (e *Emulator) CreateOrganization(managementAccountID string) *Organization {
	if !validAccountID(managementAccountID) {
		panic(fmt.Sprintf("emulator: management account id %q is not 12 digits", managementAccountID))
	}
	o := &Organization{
		e:        e,
		id:       "o-" + strings.ToLower(randomString(upperAlnum, 10)),
		mgmt:     managementAccountID,
		rootID:   "r-" + strings.ToLower(randomString(upperAlnum, 4)),
		parents:  map[string]*orgParent{},
		accounts: map[string]*orgAccount{},
		admins:   map[string]bool{},
	}
	o.parents[o.rootID] = &orgParent{id: o.rootID, name: "Root"}
	e.mu.Lock()
	e.org = o
	e.mu.Unlock()
	// CloudFormation's service-managed stack sets and aws:PrincipalOrgID
	// read the organization through its directory.
	e.SetOrgDirectory(o.directory())
	o.AddAccount(o.rootID, managementAccountID, "Management", nil)
	return o
}

// directory answers CloudFormation's and STS's questions from the model.
func (o *Organization) directory() OrgDirectory {
	return OrgDirectory{
		OrgOf: func(accountID string) string {
			o.e.mu.Lock()
			defer o.e.mu.Unlock()
			if a := o.accounts[accountID]; a != nil && a.state == AccountActive {
				return o.id
			}
			return ""
		},
		ManagementAccount: func(orgID string) string {
			if orgID != o.id {
				return ""
			}
			return o.mgmt
		},
		AccountsIn: func(ouID string) ([]string, bool) {
			o.e.mu.Lock()
			defer o.e.mu.Unlock()
			if o.parents[ouID] == nil {
				return nil, false
			}
			var out []string
			var walk func(id string)
			walk = func(id string) {
				p := o.parents[id]
				for _, a := range p.accounts {
					if o.accounts[a].state == AccountActive {
						out = append(out, a)
					}
				}
				for _, ou := range p.ous {
					walk(ou)
				}
			}
			walk(ouID)
			return out, true
		},
	}
}

// ID is the organization's id (o-…).
func (o *Organization) ID() string { return o.id }

// RootID is the id of the organization's root (r-…).
func (o *Organization) RootID() string { return o.rootID }

// AddOU creates an OU named name under parentID (the root or an OU) and
// returns its id. It panics when the parent does not exist.
func (o *Organization) AddOU(parentID, name string) string {
	o.e.mu.Lock()
	defer o.e.mu.Unlock()
	p := o.parents[parentID]
	if p == nil {
		panic(fmt.Sprintf("emulator: no root or OU %q", parentID))
	}
	id := "ou-" + o.rootID[2:] + "-" + strings.ToLower(randomString(upperAlnum, 8))
	o.parents[id] = &orgParent{id: id, name: name, parent: parentID}
	p.ous = append(p.ous, id)
	return id
}

// AddAccount makes accountID an ACTIVE member under parentID with name and
// tags. It panics on an invalid id, an unknown parent or a member that
// exists already.
func (o *Organization) AddAccount(parentID, accountID, name string, tags map[string]string) {
	if !validAccountID(accountID) {
		panic(fmt.Sprintf("emulator: account id %q is not 12 digits", accountID))
	}
	o.addAccount(parentID, accountID, name, tags)
	// Auto-deployment reaches the new member as in AWS; CloudFormation's
	// lock comes before the emulator's, so it is told after unlocking.
	o.e.OrganizationAccountAdded(accountID, parentID)
}

func (o *Organization) addAccount(parentID, accountID, name string, tags map[string]string) {
	o.e.mu.Lock()
	defer o.e.mu.Unlock()
	p := o.parents[parentID]
	if p == nil {
		panic(fmt.Sprintf("emulator: no root or OU %q", parentID))
	}
	if o.accounts[accountID] != nil {
		panic(fmt.Sprintf("emulator: account %s is in the organization already", accountID))
	}
	t := map[string]string{}
	for k, v := range tags {
		t[k] = v
	}
	o.accounts[accountID] = &orgAccount{id: accountID, name: name, email: "aws+" + accountID + "@example.com",
		parent: parentID, state: AccountActive, joined: o.e.now().UTC().Truncate(time.Second), tags: t}
	p.accounts = append(p.accounts, accountID)
	o.order = append(o.order, accountID)
}

// RegisterDelegatedAdministrator lets a member list the organization, as
// RegisterDelegatedAdministrator does for a service in AWS.
func (o *Organization) RegisterDelegatedAdministrator(accountID string) {
	o.e.mu.Lock()
	defer o.e.mu.Unlock()
	o.admins[accountID] = true
}

// SetAccountState sets a member's state (AccountActive, AccountSuspended,
// AccountPendingClosure, AccountClosed).
func (o *Organization) SetAccountState(accountID, state string) {
	o.e.mu.Lock()
	defer o.e.mu.Unlock()
	if a := o.accounts[accountID]; a != nil {
		a.state = state
	}
}

// RemoveAccount takes a member out of the organization, as
// RemoveAccountFromOrganization or a closed account's final removal does.
func (o *Organization) RemoveAccount(accountID string) {
	o.e.mu.Lock()
	defer o.e.mu.Unlock()
	a := o.accounts[accountID]
	if a == nil {
		return
	}
	delete(o.accounts, accountID)
	p := o.parents[a.parent]
	p.accounts = without(p.accounts, accountID)
	o.order = without(o.order, accountID)
}

func without(ids []string, id string) []string {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// orgCall is one Organizations operation: its IAM action is
// "organizations:" + the operation name.
type orgCall struct {
	member bool // also answered for member accounts (DescribeOrganization)
	run    func(c *call, o *Organization, in orgInput)
}

// orgInput is the union of the request fields the served operations read.
type orgInput struct {
	ParentID   *string `json:"ParentId"`
	ChildID    *string `json:"ChildId"`
	ResourceID *string `json:"ResourceId"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int    `json:"MaxResults"`
}

var orgOperations = map[string]orgCall{
	"DescribeOrganization":             {member: true, run: (*call).describeOrganization},
	"ListRoots":                        {run: (*call).listRoots},
	"ListOrganizationalUnitsForParent": {run: (*call).listOUsForParent},
	"ListAccountsForParent":            {run: (*call).listAccountsForParent},
	"ListAccounts":                     {run: (*call).listAccounts},
	"ListParents":                      {run: (*call).listParents},
	"ListTagsForResource":              {run: (*call).listTagsForResource},
}

// organizationsAction is the operation named by X-Amz-Target.
func (c *call) organizationsAction() string {
	return strings.TrimPrefix(c.r.Header.Get("X-Amz-Target"), orgTargetPrefix)
}

// orgError answers the way the JSON 1.1 protocol does.
func (c *call) orgError(status int, code, message string, reason Reason, detail string) {
	c.deniedRecord(code, message, reason, detail)
	h := c.header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("X-Amzn-Errortype", code)
	c.w.WriteHeader(status)
	json.NewEncoder(c.w).Encode(map[string]string{"__type": code, "Message": message})
	c.finish(status, false)
}

func (c *call) orgInvalid(message string) {
	c.orgError(http.StatusBadRequest, "InvalidInputException", message, ReasonInvalidParameter, "")
}

// organizations answers one Organizations call: the request must be a
// signed JSON 1.1 POST scoped to the partition's Organizations region, by
// a role allowed the action, from the management account or a delegated
// administrator.
func (c *call) organizations() {
	op, known := orgOperations[c.rec.Action]
	if c.r.Method != http.MethodPost {
		c.orgError(http.StatusMethodNotAllowed, "UnknownOperationException", "Organizations operations are POST requests", ReasonUnknownAction, c.r.Method)
		return
	}
	if mt, _, _ := mime.ParseMediaType(c.r.Header.Get("Content-Type")); mt != "application/x-amz-json-1.1" {
		c.orgError(http.StatusBadRequest, "SerializationException", "Content-Type must be application/x-amz-json-1.1", ReasonInvalidParameter, mt)
		return
	}
	if !known {
		c.orgError(http.StatusBadRequest, "UnknownOperationException", "Unknown operation "+c.rec.Action, ReasonUnknownAction, "")
		return
	}
	caller, ok := c.authenticate(ServiceOrganizations, c.orgError)
	if !ok {
		return
	}
	if want := orgSigningRegion(c.e.partition.ID); c.authRegion != want {
		c.orgError(http.StatusForbidden, "InvalidSignatureException",
			fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", c.authRegion), ReasonScopeMismatch, "Organizations signs in "+want)
		return
	}
	var in orgInput
	if err := json.Unmarshal(c.body, &in); err != nil {
		c.orgError(http.StatusBadRequest, "SerializationException", "The request body is not a JSON object of the operation's input", ReasonInvalidParameter, err.Error())
		return
	}
	action := "organizations:" + c.rec.Action
	c.e.mu.Lock()
	r := c.e.roles[caller.roleARN]
	org := c.e.org
	allowed := r != nil && r.allows(action)
	c.e.mu.Unlock()
	if !allowed {
		c.orgError(http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: %s because no identity-based policy allows the %s action", caller.assumedRoleARN, action, action),
			ReasonActionNotAllowed, action)
		return
	}
	if c.callerRevoked(caller) {
		c.orgError(http.StatusBadRequest, "AccessDeniedException",
			fmt.Sprintf("User: %s is not authorized to perform: %s with an explicit deny in an identity-based policy", caller.assumedRoleARN, action), ReasonRevokedRole, "")
		return
	}
	c.e.mu.Lock()
	member := org != nil && org.accounts[caller.accountID] != nil
	admin := member && (caller.accountID == org.mgmt || org.admins[caller.accountID])
	c.e.mu.Unlock()
	switch {
	case !member:
		c.orgError(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.", ReasonNotInOrganization, caller.accountID)
		return
	case !op.member && !admin:
		c.orgError(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.", ReasonNotManagementAccount, caller.accountID)
		return
	}
	if in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > orgPageSize) {
		c.orgInvalid(fmt.Sprintf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", *in.MaxResults, orgPageSize))
		return
	}
	op.run(c, org, in)
}

// orgSigningRegion is where Organizations, a global service, signs.
func orgSigningRegion(partition string) string {
	switch partition {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-northwest-1"
	}
	return "us-east-1"
}

// allows reports whether the role's permission policy grants action:
// an exact match, "service:*", "*", or a prefix ending in "*".
func (r *role) allows(action string) bool {
	for _, a := range r.spec.Allow {
		if a == "*" || strings.EqualFold(a, action) ||
			strings.HasSuffix(a, "*") && strings.HasPrefix(strings.ToLower(action), strings.ToLower(strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

// page cuts one page out of n items: the request's NextToken must be one
// this call handed out for the same operation and key.
func (c *call) page(in orgInput, key string, n int) (from, to int, next *string, ok bool) {
	size := orgPageSize
	if in.MaxResults != nil {
		size = *in.MaxResults
	}
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		parts := strings.Split(string(raw), "\x00")
		if err != nil || len(parts) != 3 || parts[0] != c.rec.Action || parts[1] != key {
			c.orgInvalid("The specified pagination token isn't valid: it belongs to another request, or is malformed.")
			return 0, 0, nil, false
		}
		if from, err = strconv.Atoi(parts[2]); err != nil || from < 0 {
			c.orgInvalid("The specified pagination token isn't valid.")
			return 0, 0, nil, false
		}
	}
	from = min(from, n)
	to = min(from+size, n)
	if to < n {
		t := base64.RawURLEncoding.EncodeToString([]byte(c.rec.Action + "\x00" + key + "\x00" + strconv.Itoa(to)))
		next = &t
	}
	return from, to, next, true
}

func (c *call) writeOrgJSON(v any) {
	h := c.header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	c.w.WriteHeader(http.StatusOK)
	json.NewEncoder(c.w).Encode(v)
	c.finish(http.StatusOK, true)
}

func (o *Organization) arn(resource string) string {
	return fmt.Sprintf("arn:%s:organizations::%s:%s", o.e.partition.ID, o.mgmt, resource)
}

type orgAccountJSON struct {
	ID              string  `json:"Id"`
	Arn             string  `json:"Arn"`
	Email           string  `json:"Email"`
	Name            string  `json:"Name"`
	State           string  `json:"State"`
	JoinedMethod    string  `json:"JoinedMethod"`
	JoinedTimestamp float64 `json:"JoinedTimestamp"`
}

func (o *Organization) accountJSON(a *orgAccount) orgAccountJSON {
	method := "CREATED"
	if a.id == o.mgmt {
		method = "INVITED"
	}
	return orgAccountJSON{ID: a.id, Arn: o.arn("account/" + o.id + "/" + a.id), Email: a.email, Name: a.name,
		State: a.state, JoinedMethod: method, JoinedTimestamp: float64(a.joined.Unix())}
}

func (c *call) describeOrganization(o *Organization, _ orgInput) {
	type organization struct {
		ID                 string `json:"Id"`
		Arn                string `json:"Arn"`
		FeatureSet         string `json:"FeatureSet"`
		MasterAccountArn   string `json:"MasterAccountArn"`
		MasterAccountID    string `json:"MasterAccountId"`
		MasterAccountEmail string `json:"MasterAccountEmail"`
	}
	c.writeOrgJSON(map[string]organization{"Organization": {
		ID: o.id, Arn: o.arn("organization/" + o.id), FeatureSet: "ALL",
		MasterAccountArn: o.arn("account/" + o.id + "/" + o.mgmt), MasterAccountID: o.mgmt,
		MasterAccountEmail: "aws+" + o.mgmt + "@example.com",
	}})
}

func (c *call) listRoots(o *Organization, in orgInput) {
	type root struct {
		ID          string `json:"Id"`
		Arn         string `json:"Arn"`
		Name        string `json:"Name"`
		PolicyTypes []any  `json:"PolicyTypes"`
	}
	from, to, next, ok := c.page(in, "", 1)
	if !ok {
		return
	}
	roots := []root{{ID: o.rootID, Arn: o.arn("root/" + o.id + "/" + o.rootID), Name: "Root", PolicyTypes: []any{}}}
	c.writeOrgJSON(struct {
		Roots     []root  `json:"Roots"`
		NextToken *string `json:"NextToken,omitempty"`
	}{roots[from:to], next})
}

// parentOf finds the root or OU a request names, answering the request
// itself when there is none.
func (c *call) parentOf(o *Organization, id *string) (*orgParent, bool) {
	if id == nil || *id == "" {
		c.orgInvalid("ParentId is required")
		return nil, false
	}
	c.e.mu.Lock()
	p := o.parents[*id]
	c.e.mu.Unlock()
	if p == nil {
		c.orgError(http.StatusBadRequest, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.", ReasonNotFound, *id)
		return nil, false
	}
	return p, true
}

func (c *call) listOUsForParent(o *Organization, in orgInput) {
	p, ok := c.parentOf(o, in.ParentID)
	if !ok {
		return
	}
	type ou struct {
		ID   string `json:"Id"`
		Arn  string `json:"Arn"`
		Name string `json:"Name"`
	}
	c.e.mu.Lock()
	ids := append([]string(nil), p.ous...)
	var out []ou
	from, to, next, ok := c.page(in, p.id, len(ids))
	if ok {
		out = []ou{}
		for _, id := range ids[from:to] {
			out = append(out, ou{ID: id, Arn: o.arn("ou/" + o.id + "/" + id), Name: o.parents[id].name})
		}
	}
	c.e.mu.Unlock()
	if !ok {
		return
	}
	c.writeOrgJSON(struct {
		OrganizationalUnits []ou    `json:"OrganizationalUnits"`
		NextToken           *string `json:"NextToken,omitempty"`
	}{out, next})
}

func (c *call) listAccountsForParent(o *Organization, in orgInput) {
	p, ok := c.parentOf(o, in.ParentID)
	if !ok {
		return
	}
	c.e.mu.Lock()
	ids := append([]string(nil), p.accounts...)
	c.e.mu.Unlock()
	c.writeAccounts(o, in, p.id, ids)
}

func (c *call) listAccounts(o *Organization, in orgInput) {
	c.e.mu.Lock()
	ids := append([]string(nil), o.order...)
	c.e.mu.Unlock()
	c.writeAccounts(o, in, "", ids)
}

func (c *call) writeAccounts(o *Organization, in orgInput, key string, ids []string) {
	from, to, next, ok := c.page(in, key, len(ids))
	if !ok {
		return
	}
	out := []orgAccountJSON{}
	c.e.mu.Lock()
	for _, id := range ids[from:to] {
		if a := o.accounts[id]; a != nil {
			out = append(out, o.accountJSON(a))
		}
	}
	c.e.mu.Unlock()
	c.writeOrgJSON(struct {
		Accounts  []orgAccountJSON `json:"Accounts"`
		NextToken *string          `json:"NextToken,omitempty"`
	}{out, next})
}

func (c *call) listParents(o *Organization, in orgInput) {
	if in.ChildID == nil || *in.ChildID == "" {
		c.orgInvalid("ChildId is required")
		return
	}
	c.e.mu.Lock()
	parent, found := "", false
	if a := o.accounts[*in.ChildID]; a != nil {
		parent, found = a.parent, true
	} else if p := o.parents[*in.ChildID]; p != nil && p.parent != "" {
		parent, found = p.parent, true
	}
	c.e.mu.Unlock()
	if !found {
		c.orgError(http.StatusBadRequest, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.", ReasonNotFound, *in.ChildID)
		return
	}
	from, to, next, ok := c.page(in, *in.ChildID, 1)
	if !ok {
		return
	}
	type parentJSON struct {
		ID   string `json:"Id"`
		Type string `json:"Type"`
	}
	kind := "ORGANIZATIONAL_UNIT"
	if parent == o.rootID {
		kind = "ROOT"
	}
	parents := []parentJSON{{ID: parent, Type: kind}}
	c.writeOrgJSON(struct {
		Parents   []parentJSON `json:"Parents"`
		NextToken *string      `json:"NextToken,omitempty"`
	}{parents[from:to], next})
}

func (c *call) listTagsForResource(o *Organization, in orgInput) {
	if in.ResourceID == nil || *in.ResourceID == "" {
		c.orgInvalid("ResourceId is required")
		return
	}
	c.e.mu.Lock()
	var tags map[string]string
	if a := o.accounts[*in.ResourceID]; a != nil {
		tags = a.tags
	} else if p := o.parents[*in.ResourceID]; p != nil {
		tags = p.tags
	} else {
		c.e.mu.Unlock()
		c.orgError(http.StatusBadRequest, "TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.", ReasonNotFound, *in.ResourceID)
		return
	}
	type tag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	}
	all := make([]tag, 0, len(tags))
	for k, v := range tags {
		all = append(all, tag{k, v})
	}
	c.e.mu.Unlock()
	slices.SortFunc(all, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
	from, to, next, ok := c.page(in, *in.ResourceID, len(all))
	if !ok {
		return
	}
	c.writeOrgJSON(struct {
		Tags      []tag   `json:"Tags"`
		NextToken *string `json:"NextToken,omitempty"`
	}{all[from:to], next})
}
