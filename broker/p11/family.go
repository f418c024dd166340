package p11

import (
	"path/filepath"
	"strings"

	"github.com/miekg/pkcs11"
)

// Family is the kind of token, as far as it changes what a person is told
// about its PIN.
type Family int

const (
	// FamilyOther is any token Lanyard knows nothing special about.
	FamilyOther Family = iota
	// FamilyPIV is a PIV smart card or YubiKey (ykcs11, OpenSC's PIV driver).
	FamilyPIV
	// FamilyTPM is a TPM reached through tpm2-pkcs11.
	FamilyTPM
	// FamilySoftHSM is SoftHSM2, a software token.
	FamilySoftHSM
)

// familyOf recognises a token by its module and CK_TOKEN_INFO.
func familyOf(modulePath string, i pkcs11.TokenInfo) Family {
	lib := strings.ToLower(filepath.Base(modulePath))
	model, manuf := strings.ToUpper(i.Model), strings.ToUpper(i.ManufacturerID)
	switch {
	case strings.Contains(lib, "tpm2"), strings.Contains(model, "TPM"):
		return FamilyTPM
	case strings.Contains(lib, "ykcs11"), strings.Contains(manuf, "YUBICO"), strings.Contains(model, "PIV"),
		strings.Contains(strings.ToUpper(i.Label), "PIV"):
		return FamilyPIV
	case strings.Contains(lib, "softhsm"), strings.HasPrefix(manuf, "SOFTHSM"):
		return FamilySoftHSM
	}
	return FamilyOther
}

// ReportsPINState says whether the family raises CKF_USER_PIN_COUNT_LOW,
// FINAL_TRY and LOCKED, so that clear flags mean "no wrong PIN". Others
// (tpm2-pkcs11, several PIV middlewares) leave them clear even while locked.
func (f Family) ReportsPINState() bool { return f == FamilySoftHSM || f == FamilyPIV }

// UnblockAdvice tells a person how to get out of a locked PIN on this kind
// of token.
func (f Family) UnblockAdvice() string {
	switch f {
	case FamilyPIV:
		return "unblock it with the PUK (YubiKey: `ykman piv access unblock-pin`), then try again"
	case FamilyTPM:
		return "the TPM's dictionary-attack protection has locked it after wrong PINs: it clears by itself once the " +
			"TPM's lockout interval has passed without a wrong PIN (`tpm2_getcap properties-variable` shows " +
			"TPM2_PT_LOCKOUT_COUNTER), or at once with `tpm2_dictionarylockout --clear-lockout` and the TPM's lockout authorization"
	case FamilySoftHSM:
		return "unblock it by setting a new user PIN with the SO PIN (`softhsm2-util` or `pkcs11-tool --init-pin`), then try again"
	}
	return "unblock it with the PUK or the token's admin tool, then try again"
}
