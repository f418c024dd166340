package pin

import (
	"context"
	"crypto"
	"testing"
)

func TestPrompterTravelsOnlyWhenSet(t *testing.T) {
	t.Parallel()
	if PrompterFrom(context.Background()) != nil {
		t.Fatal("a context without a prompter must not prompt")
	}
	p := PrompterFunc(func(context.Context, Request) (string, error) { return "1234", nil })
	ctx := WithPrompter(context.Background(), p)
	if PrompterFrom(ctx) == nil {
		t.Fatal("the prompter set on the request is lost")
	}
	if PrompterFrom(WithPrompter(ctx, nil)) != nil {
		t.Fatal("a request narrowed to no prompting still prompts")
	}
}

func TestInteractionFromSignerOpts(t *testing.T) {
	t.Parallel()
	p := PrompterFunc(func(context.Context, Request) (string, error) { return "1234", nil })
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, 1)
	for _, opts := range []crypto.SignerOpts{SignerOpts{Hash: crypto.SHA256, Context: ctx, Prompter: p}, &SignerOpts{Hash: crypto.SHA256, Context: ctx, Prompter: p}} {
		gotCtx, gotP := Interaction(opts)
		if gotP == nil || gotCtx.Value(key{}) != 1 || opts.HashFunc() != crypto.SHA256 {
			t.Fatalf("%T: interaction lost", opts)
		}
	}
	if _, gotP := Interaction(crypto.SHA256); gotP != nil {
		t.Fatal("plain hash opts must mean: do not prompt")
	}
}
