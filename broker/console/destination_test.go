package console

import (
	"net/url"
	"strings"
	"testing"

	"github.com/lanyard-app/lanyard/broker/awsenv"
)

func TestDestinations(t *testing.T) {
	t.Parallel()
	cases := []struct{ region, dest, want string }{
		{"eu-west-1", "", "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"},
		{"eu-west-1", "EC2", "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1"},
		{"eu-west-1", "s3", "https://s3.console.aws.amazon.com/s3/home?region=eu-west-1"},
		{"eu-west-1", "iam", "https://console.aws.amazon.com/iam/home"},
		{"ap-south-1", "cfn", "https://ap-south-1.console.aws.amazon.com/cloudformation/home?region=ap-south-1"},
		{"us-east-2", "logs", "https://us-east-2.console.aws.amazon.com/cloudwatch/home?region=us-east-2#logsV2:log-groups"},
		{"us-gov-west-1", "s3", "https://console.amazonaws-us-gov.com/s3/home?region=us-gov-west-1"},
		{"us-gov-west-1", "iam", "https://console.amazonaws-us-gov.com/iam/home"},
		{"cn-north-1", "ec2", "https://console.amazonaws.cn/ec2/home?region=cn-north-1"},
		{"eu-west-1", "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:", "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#Instances:"},
		{"cn-north-1", "https://console.amazonaws.cn/iam/home", "https://console.amazonaws.cn/iam/home"},
	}
	for _, c := range cases {
		got, err := Destination(c.region, c.dest)
		if err != nil || got != c.want {
			t.Errorf("Destination(%q, %q) = %q, %v; want %q", c.region, c.dest, got, err, c.want)
		}
	}
}

func TestEveryServiceNameGivesAConsoleURL(t *testing.T) {
	t.Parallel()
	for _, region := range []string{"us-east-1", "eu-central-1", "us-gov-east-1", "cn-northwest-1"} {
		for name := range services {
			got, err := Destination(region, name)
			if err != nil {
				t.Errorf("%s %s: %v", region, name, err)
				continue
			}
			assertConsoleURL(t, region, got)
		}
	}
}

func TestForeignDestinationsAreRefused(t *testing.T) {
	t.Parallel()
	refused := []struct{ region, dest, want string }{
		{"eu-west-1", "https://evil.example.com/console", "not an AWS console host"},
		{"eu-west-1", "https://console.aws.amazon.com.evil.example/", "not an AWS console host"},
		{"eu-west-1", "https://evilconsole.aws.amazon.com/", "not an AWS console host"},
		{"eu-west-1", "http://console.aws.amazon.com/", "only https"},
		{"eu-west-1", "https://user@console.aws.amazon.com/", "user info"},
		{"eu-west-1", "https://console.aws.amazon.com:8443/", "port"},
		{"eu-west-1", "https://console.amazonaws.cn/", "partition aws"},
		{"cn-north-1", "https://eu-west-1.console.aws.amazon.com/", "partition aws-cn"},
		{"eu-west-1", "javascript:alert(1)", "only https"},
		{"eu-west-1", "https://console.aws.amazon.com\\@evil.example/", "backslashes"},
		{"eu-west-1", "frobnicator", "unknown console destination"},
		{"eu-west-1", "ec2/home", "only https"},
		{"not a region", "ec2", "not an AWS region"},
	}
	for _, c := range refused {
		got, err := Destination(c.region, c.dest)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Destination(%q, %q) = %q, %v; want an error about %q", c.region, c.dest, got, err, c.want)
		}
	}
}

// assertConsoleURL fails unless s is an https URL on a console host of the
// region's partition.
func assertConsoleURL(t *testing.T, region, s string) {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("%q does not parse: %v", s, err)
	}
	p := awsenv.PartitionForRegion(region)
	base := p.ConsoleHost("")
	host := strings.ToLower(u.Hostname())
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || (host != base && !strings.HasSuffix(host, "."+base)) {
		t.Fatalf("%q (region %q) is not on a console host of %s", s, region, p.ID)
	}
}

func FuzzDestination(f *testing.F) {
	for _, seed := range [][2]string{
		{"eu-west-1", "ec2"}, {"us-east-1", ""}, {"cn-north-1", "https://console.amazonaws.cn/s3/"},
		{"us-gov-west-1", "https://x.console.amazonaws-us-gov.com/a?b#c"}, {"eu-west-1", "https://console.aws.amazon.com%2eevil.com/"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, region, dest string) {
		got, err := Destination(region, dest)
		if err != nil {
			return
		}
		assertConsoleURL(t, region, got)
	})
}
