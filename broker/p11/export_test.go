package p11

import "github.com/miekg/pkcs11"

// KeyFlags reads the enrolment key's CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE
// and CKA_EXTRACTABLE as the token reports them.
func KeyFlags(k *EnrollKey) (map[string]bool, error) {
	t := k.s.tok
	t.mu.Lock()
	defer t.mu.Unlock()
	key, err := k.s.keyLocked()
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for name, typ := range map[string]uint{"token": pkcs11.CKA_TOKEN, "private": pkcs11.CKA_PRIVATE,
		"sensitive": pkcs11.CKA_SENSITIVE, "extractable": pkcs11.CKA_EXTRACTABLE} {
		v, ok := t.attr(key.handle, typ)
		out[name] = ok && len(v) == 1 && v[0] != 0
	}
	return out, nil
}
