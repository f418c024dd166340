package app_test

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
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
