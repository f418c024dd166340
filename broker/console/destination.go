package console

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// consolePage is where a service's console lives.
type consolePage struct {
	path string
	// global services have one console for the partition and take no region.
	global bool
	// fragment selects a view inside the service console.
	fragment string
}

// services maps the short names users type (`--destination ec2`) to pages.
var services = map[string]consolePage{
	"home":             {path: "console/home"},
	"acm":              {path: "acm/home"},
	"apigateway":       {path: "apigateway/home"},
	"athena":           {path: "athena/home"},
	"backup":           {path: "backup/home"},
	"bedrock":          {path: "bedrock/home"},
	"billing":          {path: "billing/home", global: true},
	"cloudformation":   {path: "cloudformation/home"},
	"cloudfront":       {path: "cloudfront/v4/home", global: true},
	"cloudtrail":       {path: "cloudtrail/home"},
	"cloudwatch":       {path: "cloudwatch/home"},
	"codebuild":        {path: "codesuite/codebuild/home"},
	"codepipeline":     {path: "codesuite/codepipeline/home"},
	"config":           {path: "config/home"},
	"costexplorer":     {path: "cost-management/home", global: true},
	"dynamodb":         {path: "dynamodbv2/home"},
	"ec2":              {path: "ec2/home"},
	"ecr":              {path: "ecr/home"},
	"ecs":              {path: "ecs/v2/home"},
	"efs":              {path: "efs/home"},
	"eks":              {path: "eks/home"},
	"elasticache":      {path: "elasticache/home"},
	"elasticbeanstalk": {path: "elasticbeanstalk/home"},
	"eventbridge":      {path: "events/home"},
	"glue":             {path: "glue/home"},
	"guardduty":        {path: "guardduty/home"},
	"iam":              {path: "iam/home", global: true},
	"kinesis":          {path: "kinesis/home"},
	"kms":              {path: "kms/home"},
	"lambda":           {path: "lambda/home"},
	"logs":             {path: "cloudwatch/home", fragment: "logsV2:log-groups"},
	"opensearch":       {path: "aos/home"},
	"organizations":    {path: "organizations/v2/home", global: true},
	"rds":              {path: "rds/home"},
	"redshift":         {path: "redshiftv2/home"},
	"rolesanywhere":    {path: "rolesanywhere/home"},
	"route53":          {path: "route53/v2/home", global: true},
	"s3":               {path: "s3/home"},
	"sagemaker":        {path: "sagemaker/home"},
	"secretsmanager":   {path: "secretsmanager/home"},
	"securityhub":      {path: "securityhub/home"},
	"ses":              {path: "ses/home"},
	"sns":              {path: "sns/v3/home"},
	"sqs":              {path: "sqs/v3/home"},
	"ssm":              {path: "systems-manager/home"},
	"stepfunctions":    {path: "states/home"},
	"sso":              {path: "singlesignon/home"},
	"support":          {path: "support/home", global: true},
	"trustedadvisor":   {path: "trustedadvisor/home", global: true},
	"vpc":              {path: "vpcconsole/home"},
	"waf":              {path: "wafv2/home"},
}

// aliases are other names people use for the same consoles.
var aliases = map[string]string{
	"console":         "home",
	"cfn":             "cloudformation",
	"cw":              "cloudwatch",
	"cloudwatchlogs":  "logs",
	"ddb":             "dynamodb",
	"dynamo":          "dynamodb",
	"events":          "eventbridge",
	"identitycenter":  "sso",
	"identity-center": "sso",
	"states":          "stepfunctions",
	"systems-manager": "ssm",
	"systemsmanager":  "ssm",
	"cost":            "costexplorer",
	"wafv2":           "waf",
}

var (
	labelPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`) })
)

// Destination turns what the user asked for into a console URL for the
// region: "" is the console home, a short service name (ec2, s3, iam, …)
// that service's console, and a full https URL is accepted only on a console
// host of the region's partition, so a sign-in never lands on a foreign site.
func Destination(region, dest string) (string, error) {
	if err := checkRegion(region); err != nil {
		return "", err
	}
	p := awsenv.PartitionForRegion(region)
	dest = strings.TrimSpace(dest)
	if strings.Contains(dest, ":") || strings.Contains(dest, "/") {
		return consoleURL(p, dest)
	}
	name := strings.ToLower(dest)
	if name == "" {
		name = "home"
	}
	if a, ok := aliases[name]; ok {
		name = a
	}
	page, ok := services[name]
	if !ok {
		return "", fmt.Errorf("unknown console destination %q: use a service name such as ec2, s3, iam, lambda or cloudformation, or a full https:// URL on %s", dest, p.ConsoleHost(region))
	}
	u := url.URL{Scheme: "https", Path: "/" + page.path, Fragment: page.fragment}
	switch {
	case name == "s3" && p.ID == "aws":
		u.Host = "s3.console.aws.amazon.com"
	case page.global && p.ID == "aws":
		u.Host = p.ConsoleHost("")
	default:
		u.Host = p.ConsoleHost(region)
	}
	if !page.global {
		u.RawQuery = "region=" + region
	}
	return u.String(), nil
}

// consoleURL accepts a full URL only when it is https on a console host of
// the partition, with nothing that could smuggle another host in.
func consoleURL(p awsenv.Partition, dest string) (string, error) {
	refuse := func(why string) (string, error) {
		return "", fmt.Errorf("console destination %q is refused: %s; use a service name or an https:// URL on %s", dest, why, p.ConsoleHost(""))
	}
	if strings.IndexFunc(dest, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) >= 0 {
		return refuse("it contains spaces, control characters or backslashes")
	}
	u, err := url.Parse(dest)
	if err != nil {
		return refuse("it is not a URL")
	}
	if u.Scheme != "https" {
		return refuse("only https URLs are accepted")
	}
	if u.User != nil || u.Opaque != "" || u.Port() != "" {
		return refuse("it carries user info, a port or an opaque part")
	}
	// The browser reads the authority as written; it must be a plain host,
	// with no escapes that Go and a browser could decode differently.
	authority := dest[min(len(dest), len("https://")):]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	if !strings.EqualFold(dest[:min(len(dest), len("https://"))], "https://") || authority != u.Host {
		return refuse("its host part is not a plain host name")
	}
	host := strings.ToLower(u.Hostname())
	if !isConsoleHost(p, host) {
		return refuse(fmt.Sprintf("%s is not an AWS console host of partition %s", host, p.ID))
	}
	return dest, nil
}

// isConsoleHost reports whether host is the partition's console host or a
// well-formed subdomain of it.
func isConsoleHost(p awsenv.Partition, host string) bool {
	base := p.ConsoleHost("")
	if host == base {
		return true
	}
	prefix, ok := strings.CutSuffix(host, "."+base)
	if !ok || prefix == "" {
		return false
	}
	for _, label := range strings.Split(prefix, ".") {
		if !labelPattern().MatchString(label) {
			return false
		}
	}
	return true
}

func checkRegion(region string) error {
	if !awsname.IsRegion(region) {
		return fmt.Errorf("region %q is not an AWS region name such as us-east-1 or eu-west-2", region)
	}
	return nil
}
