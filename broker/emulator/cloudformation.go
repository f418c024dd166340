package emulator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"go.yaml.in/yaml/v3"
)

// ServiceCloudFormation is AWS CloudFormation (StackSets), in Record.Service
// and in the SigV4 credential scope. It speaks the query protocol on POST /,
// like STS; requests go to it by their Action or their credential scope.
const ServiceCloudFormation = "cloudformation"

// Reasons of CloudFormation and of the trust conditions it deploys.
const (
	// ReasonCloudFormationDenied: the caller's role was not granted
	// CloudFormation (AllowCloudFormation), or a service-managed stack set
	// was asked of an account that is not its organization's management
	// account.
	ReasonCloudFormationDenied Reason = "CloudFormationNotPermitted"
	// ReasonPrincipalOrgID: the role's trust policy requires
	// aws:PrincipalOrgID and the caller's account is not in that
	// organization.
	ReasonPrincipalOrgID Reason = "PrincipalOrgIDMismatch"
)

const (
	cfnVersion   = "2010-05-15"
	cfnNamespace = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
	cfnTimeFmt   = "2006-01-02T15:04:05.000Z"
	// The stack set roles AWS documents for self-managed permissions.
	cfnAdministrationRole = "AWSCloudFormationStackSetAdministrationRole"
	cfnExecutionRole      = "AWSCloudFormationStackSetExecutionRole"
	serviceManaged        = "SERVICE_MANAGED"
	selfManaged           = "SELF_MANAGED"
)

// OrgDirectory is what CloudFormation and STS need to know of AWS
// Organizations: service-managed stack sets deploy to OUs, and
// aws:PrincipalOrgID asks which organization a caller's account is in.
// Tests (or an Organizations model) fill it in with SetOrgDirectory; a
// nil function answers "none". The functions are called with the
// CloudFormation model locked: they may take the emulator's own lock, but
// must not call back into CloudFormation (SetOrgDirectory,
// OrganizationAccountAdded, AllowCloudFormation).
type OrgDirectory struct {
	// OrgOf returns the organization id (o-…) of an account, "" when the
	// account is in none.
	OrgOf func(accountID string) string
	// ManagementAccount returns an organization's management account.
	ManagementAccount func(orgID string) string
	// AccountsIn returns the active accounts in an OU or root, nested OUs
	// included; ok is false for an id the organization does not have.
	AccountsIn func(ouID string) (accounts []string, ok bool)
}

// stackSets is the CloudFormation model. Its lock is taken before e.mu,
// never while holding it.
type stackSets struct {
	mu     sync.Mutex
	sets   map[string]*stackSet // by admin account + "/" + name
	grants map[string]bool      // role ARNs allowed to call CloudFormation
	dir    OrgDirectory
	// orgOnly holds the aws:PrincipalOrgID a deployed role's trust policy
	// requires; keyed by the role itself, so a role replaced by AddRole
	// carries no stale condition.
	orgOnly map[*role]string
	// owner says which stack instance created a role (the role ARN's key).
	owner map[string]string
}

type stackSet struct {
	name, id, arn, admin string
	description          string
	body                 string
	tpl                  *roleTemplate
	params               map[string]string
	capabilities         []string
	permissionModel      string
	autoDeploy, retain   bool
	adminRoleARN         string
	executionRole        string
	ous                  []string
	autoRegions          []string
	instances            []*stackInstance
	byTarget             map[string]*stackInstance // account + "/" + region
	ops                  map[string]*stackSetOp
}

type stackInstance struct {
	account, region, ou string
	stackID             string
	status, detailed    string
	reason, opID        string
	overrides           map[string]string
}

type stackSetOp struct {
	id, action, status, reason string
	created, ended             time.Time
	failed                     int
}

// SetOrgDirectory tells CloudFormation and STS about organizations.
func (e *Emulator) SetOrgDirectory(d OrgDirectory) {
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	e.cfn.dir = d
}

// AllowCloudFormation grants a role's sessions the StackSets actions, as an
// identity policy would. Without it every CloudFormation call is denied.
func (e *Emulator) AllowCloudFormation(roleARN string) {
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	if e.cfn.grants == nil {
		e.cfn.grants = map[string]bool{}
	}
	e.cfn.grants[roleARN] = true
}

// OrganizationAccountAdded is what AWS does when an account joins an OU:
// every service-managed stack set with auto-deployment that targets the OU
// (or an OU above it, per the directory) deploys to the account in its
// regions. It returns the number of stack instances created. Call it
// without holding the emulator's lock.
func (e *Emulator) OrganizationAccountAdded(accountID, ouID string) int {
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	n := 0
	for _, set := range e.cfn.sets {
		if set.permissionModel != serviceManaged || !set.autoDeploy {
			continue
		}
		for _, target := range set.ous {
			if target != ouID && !slices.Contains(e.cfn.accountsIn(target), accountID) {
				continue
			}
			op := &stackSetOp{id: newUUID(), action: "CREATE", created: e.now()}
			set.ops[op.id] = op
			for _, region := range set.autoRegions {
				if e.deployLocked(set, op, accountID, region, target, nil) {
					n++
				}
			}
			op.status, op.ended = "SUCCEEDED", e.now()
			if op.failed > 0 {
				op.status = "FAILED"
			}
			break
		}
	}
	return n
}

func (s *stackSets) accountsIn(ou string) []string {
	if s.dir.AccountsIn == nil {
		return nil
	}
	accts, _ := s.dir.AccountsIn(ou)
	return accts
}

// principalOrgAllows reports whether the caller's account satisfies the
// aws:PrincipalOrgID condition a deployed role may carry.
func (e *Emulator) principalOrgAllows(r *role, callerAccount string) bool {
	e.cfn.mu.Lock()
	want, ok := e.cfn.orgOnly[r]
	orgOf := e.cfn.dir.OrgOf
	e.cfn.mu.Unlock()
	if !ok {
		return true
	}
	return orgOf != nil && orgOf(callerAccount) == want
}

// isCloudFormation tells a CloudFormation request from an STS one on POST /:
// by its Action, or by the service its signature is scoped to.
func (c *call) isCloudFormation() bool {
	switch c.rec.Action {
	case "CreateStackSet", "DescribeStackSet", "CreateStackInstances", "DescribeStackSetOperation", "ListStackInstances":
		return true
	}
	a, err := parseAuthorization(c.r.Header.Get("Authorization"))
	return err == nil && a.Service == ServiceCloudFormation
}

// cfnError answers the way the CloudFormation query protocol does.
func (c *call) cfnError(status int, code, message string, reason Reason, detail string) {
	c.queryError(cfnNamespace, status, code, message, reason, detail)
}

func (c *call) cfnValidation(message string) {
	c.cfnError(http.StatusBadRequest, "ValidationError", message, ReasonInvalidParameter, "")
}

// cfnRespond writes the action's response element holding result.
func (c *call) cfnRespond(result any) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	root := xml.StartElement{Name: xml.Name{Local: c.rec.Action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: cfnNamespace}}}
	err := errors.Join(enc.EncodeToken(root),
		enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: c.rec.Action + "Result"}}),
		enc.EncodeElement(responseMetadata{RequestID: c.reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}),
		enc.EncodeToken(root.End()), enc.Flush())
	if err != nil {
		c.cfnError(http.StatusInternalServerError, "InternalFailure", "Internal server error", ReasonInvalidParameter, err.Error())
		return
	}
	h := c.header()
	h.Set("Content-Type", "text/xml")
	c.w.WriteHeader(http.StatusOK)
	c.w.Write(b.Bytes())
	c.finish(http.StatusOK, true)
}

func (c *call) cloudFormation() {
	if c.form == nil {
		_, err := parseSTSForm(c.r.URL.RawQuery, c.body)
		c.cfnError(http.StatusBadRequest, "MalformedInput", "Invalid request", ReasonInvalidParameter, err.Error())
		return
	}
	if v := c.form.Get("Version"); v != cfnVersion {
		c.cfnError(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", c.rec.Action, v), ReasonUnknownAction, "")
		return
	}
	var op func(*session)
	switch c.rec.Action {
	case "CreateStackSet":
		op = c.createStackSet
	case "DescribeStackSet":
		op = c.describeStackSet
	case "CreateStackInstances":
		op = c.createStackInstances
	case "DescribeStackSetOperation":
		op = c.describeStackSetOperation
	case "ListStackInstances":
		op = c.listStackInstances
	default:
		c.cfnError(http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", c.rec.Action, cfnVersion), ReasonUnknownAction, "")
		return
	}
	caller, ok := c.authenticate(ServiceCloudFormation, c.cfnError)
	if !ok {
		return
	}
	name := c.form.Get("StackSetName")
	c.rec.Target = name
	if name == "" {
		c.cfnValidation("1 validation error detected: Value null at 'stackSetName' failed to satisfy constraint: Member must not be null")
		return
	}
	if c.callerRevoked(caller) {
		c.cfnDenied(caller, "caller's role sessions were revoked")
		return
	}
	c.e.cfn.mu.Lock()
	granted := c.e.cfn.grants[caller.roleARN]
	c.e.cfn.mu.Unlock()
	if !granted {
		c.cfnDenied(caller, "the caller's role has no CloudFormation permission")
		return
	}
	op(caller)
}

func (c *call) cfnDenied(caller *session, detail string) {
	resource := arn.ARN{Partition: c.e.partition.ID, Service: "cloudformation", Region: c.authRegion, AccountID: caller.accountID,
		Resource: "stackset/" + c.form.Get("StackSetName") + ":*"}.String()
	c.cfnError(http.StatusForbidden, "AccessDenied", notAuthorized(caller, "cloudformation:"+c.rec.Action, resource), ReasonCloudFormationDenied, detail)
}

// cfnParams reads prefix.member.N.ParameterKey/ParameterValue.
func cfnParams(p url.Values, prefix string) (map[string]string, error) {
	out := map[string]string{}
	for i := 1; ; i++ {
		m := prefix + ".member." + strconv.Itoa(i)
		k, hasKey := p[m+".ParameterKey"]
		v, hasValue := p[m+".ParameterValue"]
		if !hasKey && !hasValue {
			return out, nil
		}
		if !hasKey || k[0] == "" {
			return nil, fmt.Errorf("parameter %d has no ParameterKey", i)
		}
		if _, dup := out[k[0]]; dup {
			return nil, fmt.Errorf("parameter %s given twice", k[0])
		}
		if p.Get(m+".UsePreviousValue") == "true" {
			return nil, fmt.Errorf("parameter %s: UsePreviousValue is not supported by the emulator", k[0])
		}
		val := ""
		if hasValue {
			val = v[0]
		}
		out[k[0]] = val
	}
}

// subVariable is a ${Name} in an Fn::Sub string.
var subVariable = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{([^}]+)\}`) })

var stackSetNamePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`) })

func (c *call) createStackSet(caller *session) {
	p := c.form
	name := p.Get("StackSetName")
	if !stackSetNamePattern().MatchString(name) {
		c.cfnValidation("1 validation error detected: Value '" + name + "' at 'stackSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
		return
	}
	if p.Get("TemplateURL") != "" {
		c.cfnValidation("TemplateURL is not supported by the emulator: send TemplateBody")
		return
	}
	body := p.Get("TemplateBody")
	if body == "" {
		c.cfnValidation("Either Template URL or Template Body must be specified.")
		return
	}
	tpl, err := parseRoleTemplate(body)
	if err != nil {
		c.cfnValidation("Template format error: " + err.Error())
		return
	}
	params, err := cfnParams(p, "Parameters")
	if err != nil {
		c.cfnValidation(err.Error())
		return
	}
	if err := tpl.checkParams(params, true); err != nil {
		c.cfnValidation(err.Error())
		return
	}
	capabilities := members(p, "Capabilities")
	if need := tpl.capability(); !slices.Contains(capabilities, need) {
		c.cfnError(http.StatusBadRequest, "InsufficientCapabilitiesException", "Requires capabilities : ["+need+"]", ReasonInvalidParameter, "")
		return
	}
	model := p.Get("PermissionModel")
	if model == "" {
		model = selfManaged
	}
	set := &stackSet{
		name: name, admin: caller.accountID, description: p.Get("Description"), body: body, tpl: tpl, params: params,
		capabilities: capabilities, permissionModel: model, executionRole: p.Get("ExecutionRoleName"),
		adminRoleARN: p.Get("AdministrationRoleARN"), byTarget: map[string]*stackInstance{}, ops: map[string]*stackSetOp{},
	}
	set.id = name + ":" + newUUID()
	set.arn = arn.ARN{Partition: c.e.partition.ID, Service: "cloudformation", Region: c.authRegion, AccountID: caller.accountID, Resource: "stackset/" + set.id}.String()
	switch model {
	case serviceManaged:
		if set.adminRoleARN != "" || set.executionRole != "" {
			c.cfnValidation("AdministrationRoleARN and ExecutionRoleName apply only to the SELF_MANAGED permission model")
			return
		}
		set.autoDeploy = p.Get("AutoDeployment.Enabled") == "true"
		set.retain = p.Get("AutoDeployment.RetainStacksOnAccountRemoval") == "true"
	case selfManaged:
		if p.Get("AutoDeployment.Enabled") != "" {
			c.cfnValidation("AutoDeployment is only supported for the SERVICE_MANAGED permission model")
			return
		}
		if set.executionRole == "" {
			set.executionRole = cfnExecutionRole
		}
		if set.adminRoleARN == "" {
			set.adminRoleARN = arn.ARN{Partition: c.e.partition.ID, Service: "iam", AccountID: caller.accountID, Resource: "role/" + cfnAdministrationRole}.String()
		}
	default:
		c.cfnValidation("1 validation error detected: Value '" + model + "' at 'permissionModel' failed to satisfy constraint: Member must satisfy enum value set: [SERVICE_MANAGED, SELF_MANAGED]")
		return
	}

	e := c.e
	e.cfn.mu.Lock()
	if model == serviceManaged {
		if org := e.cfn.orgOf(caller.accountID); org == "" || e.cfn.managementOf(org) != caller.accountID {
			e.cfn.mu.Unlock()
			c.cfnError(http.StatusBadRequest, "ValidationError", "You must be the management account or a delegated administrator of an organization with trusted access enabled to use the SERVICE_MANAGED permission model.",
				ReasonCloudFormationDenied, "caller's account is not its organization's management account")
			return
		}
	}
	if e.cfn.sets == nil {
		e.cfn.sets, e.cfn.orgOnly, e.cfn.owner = map[string]*stackSet{}, map[*role]string{}, map[string]string{}
	}
	key := caller.accountID + "/" + name
	if e.cfn.sets[key] != nil {
		e.cfn.mu.Unlock()
		c.cfnError(http.StatusBadRequest, "NameAlreadyExistsException", "StackSet "+name+" already exists", ReasonInvalidParameter, "")
		return
	}
	e.cfn.sets[key] = set
	e.cfn.mu.Unlock()
	c.rec.Detail = "created stack set " + set.id
	c.cfnRespond(struct {
		StackSetID string `xml:"StackSetId"`
	}{set.id})
}

func (s *stackSets) orgOf(account string) string {
	if s.dir.OrgOf == nil {
		return ""
	}
	return s.dir.OrgOf(account)
}

func (s *stackSets) managementOf(org string) string {
	if s.dir.ManagementAccount == nil {
		return ""
	}
	return s.dir.ManagementAccount(org)
}

// stackSetLocked finds the caller's stack set by name (or id), answering
// StackSetNotFoundException itself when there is none.
func (c *call) stackSetLocked(caller *session) *stackSet {
	name := c.form.Get("StackSetName")
	if n, _, ok := strings.Cut(name, ":"); ok {
		if s := c.e.cfn.sets[caller.accountID+"/"+n]; s != nil && s.id == name {
			return s
		}
	}
	if s := c.e.cfn.sets[caller.accountID+"/"+name]; s != nil {
		return s
	}
	return nil
}

func (c *call) stackSetNotFound() {
	c.cfnError(http.StatusBadRequest, "StackSetNotFoundException", "StackSet "+c.form.Get("StackSetName")+" not found", ReasonNotFound, "")
}

func (c *call) describeStackSet(caller *session) {
	e := c.e
	e.cfn.mu.Lock()
	set := c.stackSetLocked(caller)
	if set == nil {
		e.cfn.mu.Unlock()
		c.stackSetNotFound()
		return
	}
	type param struct {
		Key   string `xml:"ParameterKey"`
		Value string `xml:"ParameterValue"`
	}
	type autoDeployment struct {
		Enabled bool `xml:"Enabled"`
		Retain  bool `xml:"RetainStacksOnAccountRemoval"`
	}
	type result struct {
		StackSetName          string          `xml:"StackSetName"`
		StackSetID            string          `xml:"StackSetId"`
		Description           string          `xml:"Description,omitempty"`
		Status                string          `xml:"Status"`
		TemplateBody          string          `xml:"TemplateBody"`
		Parameters            []param         `xml:"Parameters>member"`
		Capabilities          []string        `xml:"Capabilities>member"`
		StackSetARN           string          `xml:"StackSetARN"`
		AdministrationRoleARN string          `xml:"AdministrationRoleARN,omitempty"`
		ExecutionRoleName     string          `xml:"ExecutionRoleName,omitempty"`
		PermissionModel       string          `xml:"PermissionModel"`
		AutoDeployment        *autoDeployment `xml:"AutoDeployment,omitempty"`
		OUs                   []string        `xml:"OrganizationalUnitIds>member"`
	}
	res := result{StackSetName: set.name, StackSetID: set.id, Description: set.description, Status: "ACTIVE", TemplateBody: set.body,
		Capabilities: set.capabilities, StackSetARN: set.arn, AdministrationRoleARN: set.adminRoleARN, ExecutionRoleName: set.executionRole,
		PermissionModel: set.permissionModel, OUs: set.ous}
	if set.permissionModel == serviceManaged {
		res.AutoDeployment = &autoDeployment{Enabled: set.autoDeploy, Retain: set.retain}
	}
	for _, k := range sortedKeys(set.params) {
		v := set.params[k]
		if set.tpl.params[k].noEcho {
			v = "****"
		}
		res.Parameters = append(res.Parameters, param{Key: k, Value: v})
	}
	e.cfn.mu.Unlock()
	c.cfnRespond(struct {
		StackSet result `xml:"StackSet"`
	}{res})
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// target is one account a CreateStackInstances call deploys to, with the
// OU it was reached through ("" for an account target).
type target struct{ account, ou string }

func (c *call) createStackInstances(caller *session) {
	p := c.form
	regions := members(p, "Regions")
	if len(regions) == 0 {
		c.cfnValidation("1 validation error detected: Value null at 'regions' failed to satisfy constraint: Member must not be null")
		return
	}
	for _, r := range regions {
		if !regionPattern().MatchString(r) {
			c.cfnValidation("Region " + r + " is not valid")
			return
		}
	}
	overrides, err := cfnParams(p, "ParameterOverrides")
	if err != nil {
		c.cfnValidation(err.Error())
		return
	}
	accounts := members(p, "Accounts")
	dtAccounts := members(p, "DeploymentTargets.Accounts")
	ous := members(p, "DeploymentTargets.OrganizationalUnitIds")
	filter := p.Get("DeploymentTargets.AccountFilterType")
	for _, a := range slices.Concat(accounts, dtAccounts) {
		if !validAccountID(a) {
			c.cfnValidation("Account " + a + " is not a 12-digit account id")
			return
		}
	}
	tolerance, err := failureTolerance(p)
	if err != nil {
		c.cfnValidation(err.Error())
		return
	}

	e := c.e
	e.cfn.mu.Lock()
	defer e.cfn.mu.Unlock()
	set := c.stackSetLocked(caller)
	if set == nil {
		c.stackSetNotFound()
		return
	}
	if err := set.tpl.checkParamNames(overrides); err != nil {
		c.cfnValidation(err.Error())
		return
	}
	var targets []target
	switch set.permissionModel {
	case serviceManaged:
		if len(accounts) > 0 || len(ous) == 0 {
			c.cfnValidation("StackSets with SERVICE_MANAGED permission model can only have OrganizationalUnit as target")
			return
		}
		seen := map[string]bool{}
		for _, ou := range ous {
			in, ok := []string(nil), false
			if e.cfn.dir.AccountsIn != nil {
				in, ok = e.cfn.dir.AccountsIn(ou)
			}
			if !ok {
				c.cfnValidation("OrganizationalUnitIds " + ou + " could not be found in the organization")
				return
			}
			for _, a := range in {
				if seen[a] || a == set.admin || !keepAccount(filter, dtAccounts, a) {
					continue // AWS never deploys to the management account
				}
				seen[a] = true
				targets = append(targets, target{account: a, ou: ou})
			}
		}
		if filter == "UNION" {
			for _, a := range dtAccounts {
				if !seen[a] {
					seen[a] = true
					targets = append(targets, target{account: a})
				}
			}
		}
	default:
		if len(ous) > 0 {
			c.cfnValidation("StackSets with SELF_MANAGED permission model can only have accounts as target")
			return
		}
		all := slices.Concat(accounts, dtAccounts)
		if len(all) == 0 {
			c.cfnValidation("Accounts or DeploymentTargets must be specified")
			return
		}
		seen := map[string]bool{}
		for _, a := range all {
			if !seen[a] {
				seen[a] = true
				targets = append(targets, target{account: a})
			}
		}
	}
	opID := p.Get("OperationId")
	if opID == "" {
		opID = newUUID()
	}
	if set.ops[opID] != nil {
		c.cfnError(http.StatusBadRequest, "OperationIdAlreadyExistsException", "The operation id "+opID+" already exists", ReasonInvalidParameter, "")
		return
	}
	op := &stackSetOp{id: opID, action: "CREATE", created: e.now()}
	set.ops[opID] = op
	if set.permissionModel == serviceManaged {
		for _, ou := range ous {
			if !slices.Contains(set.ous, ou) {
				set.ous = append(set.ous, ou)
			}
		}
		for _, r := range regions {
			if !slices.Contains(set.autoRegions, r) {
				set.autoRegions = append(set.autoRegions, r)
			}
		}
	}
	tol := tolerance(len(targets) * len(regions))
	for _, t := range targets {
		for _, r := range regions {
			if op.failed > tol {
				set.cancelLocked(op, t.account, r, t.ou)
				continue
			}
			e.deployLocked(set, op, t.account, r, t.ou, overrides)
		}
	}
	op.status, op.ended = "SUCCEEDED", e.now()
	if op.failed > tol {
		op.status, op.reason = "FAILED", "The Operation "+opID+" has failed to create stack instances beyond its failure tolerance"
	}
	c.rec.Detail = fmt.Sprintf("operation %s: %d targets, %d failed", opID, len(targets)*len(regions), op.failed)
	c.cfnRespond(struct {
		OperationID string `xml:"OperationId"`
	}{opID})
}

// keepAccount applies DeploymentTargets.AccountFilterType to an account
// found in the targeted OUs (UNION adds the listed accounts afterwards).
func keepAccount(filter string, listed []string, account string) bool {
	switch filter {
	case "INTERSECTION":
		return slices.Contains(listed, account)
	case "DIFFERENCE":
		return !slices.Contains(listed, account)
	}
	return true
}

// failureTolerance reads OperationPreferences: how many failed instances an
// operation bears before it cancels the rest (AWS's default is none).
func failureTolerance(p url.Values) (func(n int) int, error) {
	count, pct := p.Get("OperationPreferences.FailureToleranceCount"), p.Get("OperationPreferences.FailureTolerancePercentage")
	switch {
	case count != "" && pct != "":
		return nil, errors.New("FailureToleranceCount and FailureTolerancePercentage cannot both be set")
	case count != "":
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("FailureToleranceCount %q is not a non-negative number", count)
		}
		return func(int) int { return n }, nil
	case pct != "":
		n, err := strconv.Atoi(pct)
		if err != nil || n < 0 || n > 100 {
			return nil, fmt.Errorf("FailureTolerancePercentage %q is not 0–100", pct)
		}
		// AWS rounds the percentage down.
		return func(total int) int { return int(math.Floor(float64(total) * float64(n) / 100)) }, nil
	}
	return func(int) int { return 0 }, nil
}

// instanceLocked returns the set's instance for account and region,
// creating it.
func (s *stackSet) instanceLocked(account, region, ou string) *stackInstance {
	key := account + "/" + region
	inst := s.byTarget[key]
	if inst == nil {
		inst = &stackInstance{account: account, region: region}
		s.instances = append(s.instances, inst)
		s.byTarget[key] = inst
	}
	if ou != "" {
		inst.ou = ou
	}
	return inst
}

func (s *stackSet) cancelLocked(op *stackSetOp, account, region, ou string) {
	inst := s.instanceLocked(account, region, ou)
	inst.status, inst.detailed, inst.reason, inst.opID = "OUTDATED", "CANCELLED", "Cancelled since failure tolerance has exceeded", op.id
}

// deployLocked creates (or, for its own instance, replaces) the role the
// template describes in account, as the stack in region would, and
// records the outcome on the instance. It reports success.
func (e *Emulator) deployLocked(set *stackSet, op *stackSetOp, account, region, ou string, overrides map[string]string) bool {
	inst := set.instanceLocked(account, region, ou)
	inst.opID = op.id
	if overrides != nil {
		inst.overrides = overrides
	}
	if inst.stackID == "" {
		inst.stackID = arn.ARN{Partition: e.partition.ID, Service: "cloudformation", Region: region, AccountID: account,
			Resource: "stack/StackSet-" + set.name + "-" + newUUID() + "/" + newUUID()}.String()
	}
	fail := func(reason string) bool {
		inst.status, inst.detailed, inst.reason = "OUTDATED", "FAILED", reason
		op.failed++
		return false
	}
	if set.permissionModel == selfManaged {
		if reason := e.executionRoleMissing(set, account); reason != "" {
			return fail(reason)
		}
	}
	values := map[string]string{}
	for k, v := range set.params {
		values[k] = v
	}
	for k, v := range inst.overrides {
		values[k] = v
	}
	spec, path, orgID, err := set.tpl.roleFor(values, account, e.partition.ID)
	if err != nil {
		return fail("ResourceLogicalId:" + set.tpl.logicalID + ", ResourceType:AWS::IAM::Role, ResourceStatusReason:" + err.Error())
	}
	roleARN := arn.ARN{Partition: e.partition.ID, Service: "iam", AccountID: account, Resource: "role" + path + spec.Name}.String()
	owner := set.arn + "|" + account + "|" + region
	e.mu.Lock()
	defer e.mu.Unlock()
	if existing := e.roles[roleARN]; existing != nil && e.cfn.owner[roleARN] != owner {
		return fail("ResourceLogicalId:" + set.tpl.logicalID + ", ResourceType:AWS::IAM::Role, ResourceStatusReason:" + spec.Name + " already exists.")
	}
	r := &role{arn: roleARN, spec: spec}
	if old := e.roles[roleARN]; old != nil {
		delete(e.cfn.orgOnly, old)
	}
	e.roles[roleARN] = r
	e.cfn.owner[roleARN] = owner
	if orgID != "" {
		e.cfn.orgOnly[r] = orgID
	}
	inst.status, inst.detailed, inst.reason = "CURRENT", "SUCCEEDED", ""
	return true
}

// executionRoleMissing says why a self-managed stack set cannot act in an
// account ("" when it can): the execution role must exist there and trust
// the stack set's administration account.
func (e *Emulator) executionRoleMissing(set *stackSet, account string) string {
	exec := arn.ARN{Partition: e.partition.ID, Service: "iam", AccountID: account, Resource: "role/" + set.executionRole}.String()
	e.mu.Lock()
	r := e.roles[exec]
	e.mu.Unlock()
	if r == nil || !r.trusts(set.adminRoleARN, set.admin, e.partition.ID) {
		return "Account " + account + " should have '" + set.executionRole + "' role with trust relationship to Role '" + set.adminRoleARN + "'."
	}
	return ""
}

func (c *call) describeStackSetOperation(caller *session) {
	id := c.form.Get("OperationId")
	e := c.e
	e.cfn.mu.Lock()
	set := c.stackSetLocked(caller)
	if set == nil {
		e.cfn.mu.Unlock()
		c.stackSetNotFound()
		return
	}
	op := set.ops[id]
	if op == nil {
		e.cfn.mu.Unlock()
		c.cfnError(http.StatusBadRequest, "OperationNotFoundException", "Operation "+id+" not found", ReasonNotFound, "")
		return
	}
	type details struct {
		Failed int `xml:"FailedStackInstancesCount"`
	}
	type result struct {
		OperationID  string  `xml:"OperationId"`
		StackSetID   string  `xml:"StackSetId"`
		Action       string  `xml:"Action"`
		Status       string  `xml:"Status"`
		StatusReason string  `xml:"StatusReason,omitempty"`
		Created      string  `xml:"CreationTimestamp"`
		Ended        string  `xml:"EndTimestamp,omitempty"`
		Details      details `xml:"StatusDetails"`
	}
	res := result{OperationID: op.id, StackSetID: set.id, Action: op.action, Status: op.status, StatusReason: op.reason,
		Created: op.created.UTC().Format(cfnTimeFmt), Ended: op.ended.UTC().Format(cfnTimeFmt), Details: details{op.failed}}
	e.cfn.mu.Unlock()
	c.cfnRespond(struct {
		Op result `xml:"StackSetOperation"`
	}{res})
}

func (c *call) listStackInstances(caller *session) {
	p := c.form
	limit := 100
	if v := p.Get("MaxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			c.cfnValidation("1 validation error detected: Value '" + v + "' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100")
			return
		}
		limit = n
	}
	start := 0
	if tok := p.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "instances-"))
		if err != nil || n < 0 || !strings.HasPrefix(tok, "instances-") {
			c.cfnValidation("Invalid NextToken")
			return
		}
		start = n
	}
	account, region := p.Get("StackInstanceAccount"), p.Get("StackInstanceRegion")
	type status struct {
		Detailed string `xml:"DetailedStatus"`
	}
	type summary struct {
		StackSetID     string `xml:"StackSetId"`
		Region         string `xml:"Region"`
		Account        string `xml:"Account"`
		StackID        string `xml:"StackId,omitempty"`
		Status         string `xml:"Status"`
		StatusReason   string `xml:"StatusReason,omitempty"`
		Detailed       status `xml:"StackInstanceStatus"`
		OU             string `xml:"OrganizationalUnitId,omitempty"`
		DriftStatus    string `xml:"DriftStatus"`
		LastOperatedID string `xml:"LastOperationId,omitempty"`
	}
	type result struct {
		Summaries []summary `xml:"Summaries>member"`
		NextToken string    `xml:"NextToken,omitempty"`
	}
	e := c.e
	e.cfn.mu.Lock()
	set := c.stackSetLocked(caller)
	if set == nil {
		e.cfn.mu.Unlock()
		c.stackSetNotFound()
		return
	}
	var res result
	i := start
	for ; i < len(set.instances) && len(res.Summaries) < limit; i++ {
		inst := set.instances[i]
		if account != "" && inst.account != account || region != "" && inst.region != region {
			continue
		}
		res.Summaries = append(res.Summaries, summary{StackSetID: set.id, Region: inst.region, Account: inst.account, StackID: inst.stackID,
			Status: inst.status, StatusReason: inst.reason, Detailed: status{inst.detailed}, OU: inst.ou, DriftStatus: "NOT_CHECKED", LastOperatedID: inst.opID})
	}
	if i < len(set.instances) {
		res.NextToken = "instances-" + strconv.Itoa(i)
	}
	e.cfn.mu.Unlock()
	c.cfnRespond(res)
}

// awsMessage is an error whose text is CloudFormation's own message,
// capitals and all, as the emulator sends it back.
type awsMessage string

func (m awsMessage) Error() string { return string(m) }

func awsMessagef(format string, args ...any) error { return awsMessage(fmt.Sprintf(format, args...)) }

// roleTemplate is what the emulator understands of a template: its
// parameters and one AWS::IAM::Role.
type roleTemplate struct {
	params    map[string]templateParam
	logicalID string
	props     roleProperties
}

type templateParam struct {
	hasDefault     bool
	def            string
	noEcho         bool
	allowedPattern *regexp.Regexp
	minLength      int
	maxLength      int
}

type roleProperties struct {
	RoleName                 any `yaml:"RoleName"`
	Path                     any `yaml:"Path"`
	MaxSessionDuration       any `yaml:"MaxSessionDuration"`
	AssumeRolePolicyDocument struct {
		Statement []struct {
			Effect    any                       `yaml:"Effect"`
			Principal map[string]any            `yaml:"Principal"`
			Action    any                       `yaml:"Action"`
			Condition map[string]map[string]any `yaml:"Condition"`
		} `yaml:"Statement"`
	} `yaml:"AssumeRolePolicyDocument"`
	ManagedPolicyArns []any `yaml:"ManagedPolicyArns"`
}

// parseRoleTemplate reads a YAML or JSON template holding one IAM role.
func parseRoleTemplate(body string) (*roleTemplate, error) {
	var doc struct {
		Parameters map[string]struct {
			Type           string `yaml:"Type"`
			Default        any    `yaml:"Default"`
			NoEcho         any    `yaml:"NoEcho"`
			AllowedPattern string `yaml:"AllowedPattern"`
			MinLength      int    `yaml:"MinLength"`
			MaxLength      int    `yaml:"MaxLength"`
		} `yaml:"Parameters"`
		Resources map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil {
		return nil, fmt.Errorf("not a YAML or JSON template: %v", err)
	}
	t := &roleTemplate{params: map[string]templateParam{}}
	for name, p := range doc.Parameters {
		if p.Type != "String" {
			return nil, fmt.Errorf("parameter %s: the emulator models only String parameters", name)
		}
		tp := templateParam{noEcho: fmt.Sprint(p.NoEcho) == "true", minLength: p.MinLength, maxLength: p.MaxLength}
		if p.Default != nil {
			tp.hasDefault, tp.def = true, fmt.Sprint(p.Default)
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile(`^(?:` + p.AllowedPattern + `)$`)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: AllowedPattern: %v", name, err)
			}
			tp.allowedPattern = re
		}
		t.params[name] = tp
	}
	if len(doc.Resources) == 0 {
		return nil, errors.New("at least one Resources member must be defined")
	}
	for id, r := range doc.Resources {
		if r.Type != "AWS::IAM::Role" {
			return nil, fmt.Errorf("resource %s: the emulator models only AWS::IAM::Role, not %s", id, r.Type)
		}
		if t.logicalID != "" {
			return nil, errors.New("the emulator models templates with one AWS::IAM::Role")
		}
		if err := r.Properties.Decode(&t.props); err != nil {
			return nil, fmt.Errorf("resource %s: %v", id, err)
		}
		t.logicalID = id
	}
	if len(t.props.AssumeRolePolicyDocument.Statement) == 0 {
		return nil, fmt.Errorf("resource %s: AssumeRolePolicyDocument has no Statement", t.logicalID)
	}
	return t, nil
}

// capability is the one a stack set of this template must acknowledge.
func (t *roleTemplate) capability() string {
	if t.props.RoleName != nil {
		return "CAPABILITY_NAMED_IAM"
	}
	return "CAPABILITY_IAM"
}

func (t *roleTemplate) checkParamNames(given map[string]string) error {
	var unknown []string
	for k := range given {
		if _, ok := t.params[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return awsMessagef("Parameters: [%s] do not exist in the template", strings.Join(unknown, ", "))
	}
	return nil
}

// checkParams checks given values against the template; complete also
// requires a value for every parameter without a default.
func (t *roleTemplate) checkParams(given map[string]string, complete bool) error {
	if err := t.checkParamNames(given); err != nil {
		return err
	}
	var missing []string
	for name, p := range t.params {
		v, ok := given[name]
		if !ok {
			if complete && !p.hasDefault {
				missing = append(missing, name)
			}
			continue
		}
		if err := p.check(name, v); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return awsMessagef("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	return nil
}

// check validates a parameter value; a NoEcho value is never echoed.
func (p templateParam) check(name, v string) error {
	shown := "'" + v + "'"
	if p.noEcho {
		shown = "value"
	}
	if p.minLength > 0 && len(v) < p.minLength {
		return awsMessagef("Parameter '%s' must contain at least %d characters", name, p.minLength)
	}
	if p.maxLength > 0 && len(v) > p.maxLength {
		return awsMessagef("Parameter '%s' must contain at most %d characters", name, p.maxLength)
	}
	if p.allowedPattern != nil && !p.allowedPattern.MatchString(v) {
		return awsMessagef("Parameter '%s' %s must match pattern %s", name, shown, strings.TrimSuffix(strings.TrimPrefix(p.allowedPattern.String(), "^(?:"), ")$"))
	}
	return nil
}

// roleFor resolves the template for one account: the role's spec, its
// path, and the aws:PrincipalOrgID its trust policy requires ("" for none).
// What the emulator cannot evaluate fails the stack, never widens trust.
func (t *roleTemplate) roleFor(given map[string]string, account, partition string) (RoleSpec, string, string, error) {
	values := map[string]string{"AWS::AccountId": account, "AWS::Partition": partition}
	for name, p := range t.params {
		v, ok := given[name]
		if !ok {
			if !p.hasDefault {
				return RoleSpec{}, "", "", awsMessagef("Parameters: [%s] must have values", name)
			}
			v = p.def
		}
		if err := p.check(name, v); err != nil {
			return RoleSpec{}, "", "", err
		}
		values[name] = v
	}
	str := func(what string, v any) (string, error) { return resolveValue(what, v, values) }
	spec := RoleSpec{AccountID: account, MaxSessionDuration: 3600}
	name, err := str("RoleName", t.props.RoleName)
	if err != nil {
		return RoleSpec{}, "", "", err
	}
	if name == "" {
		name = "StackSet-" + t.logicalID + "-" + randomString(upperAlnum, 12)
	}
	if !roleNamePattern().MatchString(name) {
		return RoleSpec{}, "", "", fmt.Errorf("role name %q is not valid", name)
	}
	spec.Name = name
	path := "/"
	if t.props.Path != nil {
		if path, err = str("Path", t.props.Path); err != nil {
			return RoleSpec{}, "", "", err
		}
		if !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") {
			return RoleSpec{}, "", "", fmt.Errorf("path %q must begin and end with /", path)
		}
	}
	if t.props.MaxSessionDuration != nil {
		d, err := strconv.Atoi(fmt.Sprint(t.props.MaxSessionDuration))
		if err != nil || d < minSessionSeconds || d > maxSessionSeconds {
			return RoleSpec{}, "", "", fmt.Errorf("MaxSessionDuration %v is not 3600–43200", t.props.MaxSessionDuration)
		}
		spec.MaxSessionDuration = int32(d)
	}
	orgID := ""
	for i, st := range t.props.AssumeRolePolicyDocument.Statement {
		if fmt.Sprint(st.Effect) != "Allow" {
			return RoleSpec{}, "", "", fmt.Errorf("statement %d: the emulator models only Allow statements", i)
		}
		actions, err := stringList(st.Action, values)
		if err != nil {
			return RoleSpec{}, "", "", fmt.Errorf("statement %d: Action: %v", i, err)
		}
		for k, v := range st.Principal {
			list, err := stringList(v, values)
			if err != nil {
				return RoleSpec{}, "", "", fmt.Errorf("statement %d: Principal: %v", i, err)
			}
			switch k {
			case "AWS":
				spec.TrustedPrincipals = append(spec.TrustedPrincipals, list...)
			case "Service":
				if !slices.Contains(list, "rolesanywhere.amazonaws.com") {
					return RoleSpec{}, "", "", fmt.Errorf("statement %d: the emulator models only the rolesanywhere service principal", i)
				}
				spec.TrustRolesAnywhere = true
			default:
				return RoleSpec{}, "", "", fmt.Errorf("statement %d: principal type %s is not modelled", i, k)
			}
		}
		if !slices.Contains(actions, "sts:AssumeRole") {
			return RoleSpec{}, "", "", fmt.Errorf("statement %d does not allow sts:AssumeRole", i)
		}
		spec.AllowSetSourceIdentity = spec.AllowSetSourceIdentity || slices.Contains(actions, "sts:SetSourceIdentity")
		spec.AllowTagSession = spec.AllowTagSession || slices.Contains(actions, "sts:TagSession")
		for op, conds := range st.Condition {
			if op != "StringEquals" {
				return RoleSpec{}, "", "", fmt.Errorf("statement %d: condition operator %s is not modelled", i, op)
			}
			for key, v := range conds {
				val, err := resolveValue(key, v, values)
				if err != nil {
					return RoleSpec{}, "", "", err
				}
				switch key {
				case "sts:ExternalId":
					if spec.ExternalID != "" && spec.ExternalID != val {
						return RoleSpec{}, "", "", errors.New("two different ExternalIds are not modelled")
					}
					spec.ExternalID = val
				case "aws:PrincipalOrgID":
					if orgID != "" && orgID != val {
						return RoleSpec{}, "", "", errors.New("two different organizations are not modelled")
					}
					orgID = val
				default:
					return RoleSpec{}, "", "", fmt.Errorf("statement %d: condition key %s is not modelled", i, key)
				}
			}
		}
	}
	return spec, path, orgID, nil
}

// resolveValue turns a template value into a string: a literal, a Ref to a
// parameter or pseudo parameter, or an Fn::Sub of those.
func resolveValue(what string, v any, values map[string]string) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case int, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if ref, ok := x["Ref"].(string); ok {
			val, ok := values[ref]
			if !ok {
				return "", fmt.Errorf("%s: unresolved reference %s", what, ref)
			}
			return val, nil
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			var err error
			out := subVariable().ReplaceAllStringFunc(sub, func(m string) string {
				val, ok := values[m[2:len(m)-1]]
				if !ok {
					err = fmt.Errorf("%s: unresolved variable %s", what, m)
				}
				return val
			})
			return out, err
		}
	}
	return "", fmt.Errorf("%s: the emulator does not model the value %v", what, v)
}

func stringList(v any, values map[string]string) ([]string, error) {
	if list, ok := v.([]any); ok {
		var out []string
		for _, x := range list {
			s, err := resolveValue("list member", x, values)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	s, err := resolveValue("value", v, values)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}
