package emulator

import (
	"encoding/json"
	"fmt"
	"slices"
)

// DeployRole creates in accountID the role named roleName that trustPolicy
// (an IAM trust policy document) describes, as deploying a template that
// creates it would in AWS; it returns the role's ARN. Only what the
// emulator enforces is read: the AWS principals of an Allow statement, its
// StringEquals sts:ExternalId condition, and whether it grants
// sts:SetSourceIdentity and sts:TagSession. The role replaces any earlier
// one of that name, as an updated stack does.
func (e *Emulator) DeployRole(accountID, roleName, trustPolicy string) (string, error) {
	if !validAccountID(accountID) {
		return "", fmt.Errorf("account id %q is not 12 digits", accountID)
	}
	if !roleNamePattern().MatchString(roleName) {
		return "", fmt.Errorf("role name %q is not valid", roleName)
	}
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS policyValues }
			Action    policyValues
			Condition map[string]map[string]policyValues
		}
	}
	if err := json.Unmarshal([]byte(trustPolicy), &doc); err != nil {
		return "", fmt.Errorf("trust policy: %w", err)
	}
	spec := RoleSpec{AccountID: accountID, Name: roleName}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || len(s.Principal.AWS) == 0 || !slices.Contains(s.Action, "sts:AssumeRole") {
			continue
		}
		spec.TrustedPrincipals = append(spec.TrustedPrincipals, s.Principal.AWS...)
		if ids := s.Condition["StringEquals"]["sts:ExternalId"]; len(ids) == 1 {
			spec.ExternalID = ids[0]
		} else if len(ids) > 1 {
			return "", fmt.Errorf("trust policy: the emulator takes one ExternalId per role, not %d", len(ids))
		}
		spec.AllowSetSourceIdentity = spec.AllowSetSourceIdentity || slices.Contains(s.Action, "sts:SetSourceIdentity")
		spec.AllowTagSession = spec.AllowTagSession || slices.Contains(s.Action, "sts:TagSession")
	}
	if len(spec.TrustedPrincipals) == 0 {
		return "", fmt.Errorf("trust policy: no statement lets an AWS principal sts:AssumeRole")
	}
	return e.AddRole(spec), nil
}

// policyValues is an IAM policy value: one string or a list of them.
type policyValues []string

// UnmarshalJSON reads "x" or ["x", "y"].
func (l *policyValues) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*l = many
	return nil
}
