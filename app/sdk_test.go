package app_test

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/lanyard-app/lanyard/app/demo"
	"github.com/lanyard-app/lanyard/broker/awsenv"
	"github.com/lanyard-app/lanyard/broker/emulator"
)

// loadProfileCredentials resolves a profile's credentials exactly as an SDK
// client would, through the shared config file.
func loadProfileCredentials(ctx context.Context, file, profile string) (aws.Credentials, error) {
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithSharedConfigFiles([]string{file}),
		config.WithSharedCredentialsFiles([]string{}),
		config.WithSharedConfigProfile(profile))
	if err != nil {
		return aws.Credentials{}, err
	}
	return cfg.Credentials.Retrieve(ctx)
}

// demoResolver points the App at an emulator, as the demo does.
func demoResolver(e *emulator.Emulator) awsenv.Resolver {
	return demo.Resolver(e.URL(), e.CABundlePath())
}
