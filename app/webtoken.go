package app

import (
	"context"

	"github.com/lanyard-app/lanyard/broker/webtoken"
)

// Token returns an outbound identity federation JWT for the account.
func (a *Sessions) Token(ctx context.Context, account string, opts TokenOptions) (Token, error) {
	e, err := a.account(account)
	if err != nil {
		return Token{}, err
	}
	jwt, exp, err := webtoken.Get(ctx, e.sess, webtoken.Options{
		Audience: opts.Audience, Algorithm: opts.Algorithm, Duration: opts.Duration, Tags: opts.Tags,
		Region: e.region(), Resolver: a.opts.Resolver,
	})
	a.record(e.ident.cfg.Name, account, "token", outcomeOf(err), errText(err))
	if err != nil {
		return Token{}, explain(account, err)
	}
	a.used(account)
	return Token{JWT: jwt, Expires: exp}, nil
}
