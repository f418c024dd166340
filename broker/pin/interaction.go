package pin

import (
	"context"
	"crypto"
	"errors"
)

// ErrPromptNotAllowed is returned when a key needs a PIN (or a passphrase)
// that no non-interactive source supplies and the request may not ask a
// person: a background refresh, a command with no terminal. The front end
// words the remedy; the key source only states the fact.
var ErrPromptNotAllowed = errors.New("a PIN is needed and this request may not ask for one")

// promptKey carries a request's Prompter through APIs that only pass a
// context, such as aws.CredentialsProvider.Retrieve.
type promptKey struct{}

// WithPrompter returns a context whose requests may obtain a PIN through p.
// A nil p means the request must not prompt at all. This is the one place a
// request's interactivity crosses an API that takes only a context; below
// it, signers receive the prompter explicitly at signing time (SignerOpts).
func WithPrompter(ctx context.Context, p Prompter) context.Context {
	return context.WithValue(ctx, promptKey{}, prompterBox{p})
}

// prompterBox lets a nil Prompter be stored and told apart from "not set".
type prompterBox struct{ p Prompter }

// PrompterFrom returns the Prompter a request may use, or nil when the
// request must not prompt (including when no prompter was ever set: a
// request never gains interactivity by accident).
func PrompterFrom(ctx context.Context) Prompter {
	b, _ := ctx.Value(promptKey{}).(prompterBox)
	return b.p
}

// SignerOpts is the crypto.SignerOpts a key source receives when the signer
// of a request must know, at the moment of signing, who may be asked for a
// PIN. Key sources that never prompt read only the hash.
type SignerOpts struct {
	crypto.Hash
	// Context is the request's context: cancellation, and nothing else.
	Context context.Context
	// Prompter answers PIN requests of this signature; nil means none may
	// be asked and the key fails with ErrPromptNotAllowed if it needs one.
	Prompter Prompter
}

// Interaction returns the context and prompter carried by opts, for a key
// source that may need a PIN: SignerOpts gives its own, anything else
// means a background context that must not prompt.
func Interaction(opts crypto.SignerOpts) (context.Context, Prompter) {
	if o, ok := opts.(SignerOpts); ok {
		ctx := o.Context
		if ctx == nil {
			ctx = context.Background()
		}
		return ctx, o.Prompter
	}
	if o, ok := opts.(*SignerOpts); ok && o != nil {
		return Interaction(*o)
	}
	return context.Background(), nil
}
