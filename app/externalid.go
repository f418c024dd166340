package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/lanyard-app/lanyard/app/config"
	"github.com/lanyard-app/lanyard/app/secrets"
	"github.com/lanyard-app/lanyard/broker/awsname"
)

// storedExternalID reads an account's ExternalId from the keyring. For an
// account from a team registry whose ExternalId is not cached yet, it is
// read from the hub account's Secrets Manager with the identity's own
// (hub role) session and cached in the keyring: it is never written
// anywhere else, and no error quotes it.
func (a *core) storedExternalID(ctx context.Context, acct config.Account, ident *identityEntry) (string, error) {
	key := secrets.ExternalIDKey(acct.Name)
	v, err := a.store.Get(key)
	if err == nil || !errors.Is(err, secrets.ErrNotFound) || acct.ExternalIDSecret == "" {
		return v, err
	}
	v, err = a.fetchExternalID(ctx, acct, ident)
	a.record(ident.cfg.Name, acct.Name, "external-id-fetch", outcomeOf(err), errText(err))
	if err != nil {
		return "", err
	}
	if err := a.store.Set(key, v); err != nil {
		return "", fmt.Errorf("caching the ExternalId read from Secrets Manager in the keyring: %w", err)
	}
	return v, nil
}

func (a *core) fetchExternalID(ctx context.Context, acct config.Account, ident *identityEntry) (string, error) {
	where, err := arn.Parse(acct.ExternalIDSecret)
	if err != nil {
		return "", fmt.Errorf("external_id_secret %q is not an ARN", acct.ExternalIDSecret)
	}
	httpClient, err := a.opts.Resolver.HTTPClient()
	if err != nil {
		return "", err
	}
	opts := secretsmanager.Options{Region: where.Region, Credentials: ident.sess, HTTPClient: httpClient}
	if ep := a.opts.Resolver.Override("secretsmanager"); ep != "" {
		opts.BaseEndpoint = aws.String(ep)
	}
	out, err := secretsmanager.New(opts).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(acct.ExternalIDSecret)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "AccessDeniedException":
				return "", fmt.Errorf("reading its ExternalId: Secrets Manager refused the hub role of identity %q access to %s (it needs secretsmanager:GetSecretValue on it, and kms:Decrypt on its key)", ident.cfg.Name, acct.ExternalIDSecret)
			case "ResourceNotFoundException":
				return "", fmt.Errorf("reading its ExternalId: there is no secret %s (deleted, or in another region): ask the registry's maintainer", acct.ExternalIDSecret)
			}
		}
		return "", fmt.Errorf("reading its ExternalId from Secrets Manager: %w", err)
	}
	if aws.ToString(out.ARN) != acct.ExternalIDSecret {
		return "", fmt.Errorf("reading its ExternalId: Secrets Manager answered for %s, not %s", aws.ToString(out.ARN), acct.ExternalIDSecret)
	}
	v := aws.ToString(out.SecretString)
	if err := awsname.ValidExternalID(v); err != nil {
		return "", fmt.Errorf("the secret %s does not hold an ExternalId as plain text: %w", acct.ExternalIDSecret, err)
	}
	return v, nil
}
