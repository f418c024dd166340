/*
 * Test-only PKCS #11 module wrapping SoftHSM2, which never locks a PIN.
 * When the file named by LANYARD_SHIM_STATE contains "flag", C_GetTokenInfo
 * adds CKF_USER_PIN_LOCKED and C_Login answers CKR_PIN_LOCKED, as a PIV
 * token does after three wrong PINs. With "login", only C_Login answers
 * CKR_PIN_LOCKED (a token that does not report its flags). Everything else
 * is SoftHSM2 itself (LANYARD_SHIM_MODULE).
 */
#define CK_PTR *
#define NULL_PTR 0
#define CK_DEFINE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType (*name)
#define CK_CALLBACK_FUNCTION(returnType, name) returnType (*name)
#include "pkcs11.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_FUNCTION_LIST shim;
static CK_FUNCTION_LIST_PTR real;

static int state(const char *want) {
	const char *path = getenv("LANYARD_SHIM_STATE");
	char buf[16] = {0};
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f) return 0;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	return strncmp(buf, want, strlen(want)) == 0;
}

static CK_RV shimGetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
	CK_RV rv = real->C_GetTokenInfo(slot, info);
	if (rv == CKR_OK && state("flag")) info->flags |= CKF_USER_PIN_LOCKED;
	return rv;
}

static CK_RV shimLogin(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
	if (user != CKU_SO && (state("flag") || state("login"))) return CKR_PIN_LOCKED;
	return real->C_Login(s, user, pin, len);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out) {
	if (!real) {
		void *h = dlopen(getenv("LANYARD_SHIM_MODULE"), RTLD_NOW);
		CK_C_GetFunctionList get = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
		if (!get || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;
		shim = *real;
		shim.C_GetTokenInfo = shimGetTokenInfo;
		shim.C_Login = shimLogin;
	}
	*out = &shim;
	return CKR_OK;
}
