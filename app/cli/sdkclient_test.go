package cli_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// envExitCode is the exit status the SDK client ends with.
const envExitCode = "LANYARD_TEST_EXIT_CODE"

// sdkClient is what the test binary does as the child of `lanyard exec`: an
// ordinary AWS SDK for Go program. Twice — the second time after a line on
// stdin, so the parent can force a refresh in between — it loads the default
// configuration (which finds the container credentials endpoint in its
// environment), proves the credentials with GetCallerIdentity and prints
// "SOURCE ACCESS-KEY-ID ACCOUNT".
func sdkClient() int {
	ctx := context.Background()
	in := bufio.NewReader(os.Stdin)
	for i := range 2 {
		if i > 0 {
			if _, err := in.ReadString('\n'); err != nil {
				fmt.Fprintln(os.Stderr, "sdk client: no go-ahead on stdin:", err)
				return 99
			}
		}
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sdk client:", err)
			return 98
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sdk client:", err)
			return 97
		}
		who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "sdk client:", err)
			return 96
		}
		fmt.Printf("%s %s %s\n", creds.Source, creds.AccessKeyID, *who.Account)
	}
	code, _ := strconv.Atoi(os.Getenv(envExitCode))
	return code
}
