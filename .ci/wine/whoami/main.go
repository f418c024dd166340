// Command whoami asks STS who its credentials belong to, through the AWS SDK
// for Go's default chain, and prints the ARN. The Wine stage builds it for
// Windows and runs it under `lanyard exec`: a client nobody in this project
// wrote, finding Lanyard's container-credentials endpoint on its own.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err == nil {
		var out *sts.GetCallerIdentityOutput
		out, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			fmt.Println(*out.Arn)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "whoami:", err)
	os.Exit(1)
}
