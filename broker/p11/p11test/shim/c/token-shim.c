/*
 * Test-only PKCS #11 module wrapping SoftHSM2 (LANYARD_SHIM_MODULE), to play
 * what SoftHSM2 never does. The file named by LANYARD_SHIM_STATE holds one
 * word, read at every call:
 *
 *   flag       C_GetTokenInfo adds CKF_USER_PIN_LOCKED and C_Login answers
 *              CKR_PIN_LOCKED, as a PIV token does after three wrong PINs.
 *   login      only C_Login answers CKR_PIN_LOCKED (a token that does not
 *              report its flags).
 *   noflags    C_GetTokenInfo clears every CKF_USER_PIN_* flag, as
 *              tpm2-pkcs11 and several PIV middlewares do.
 *   touch N    C_Sign waits N ms first, as a YubiKey waits to be touched.
 *   untouched N  C_Sign waits N ms and fails, as a key nobody touched.
 *   nokeygen   C_GenerateKeyPair answers CKR_USER_NOT_LOGGED_IN, as ykcs11
 *              does for a user who has not given the management key.
 *   piv        access as ykcs11 grants it to a PIV token: C_GenerateKeyPair
 *              and C_CreateObject need the security officer (CKU_SO, whose
 *              PIN is SoftHSM2's SO PIN), C_SignInit the user. Behind the
 *              scenes the SO login logs SoftHSM2 in as the user (PIN from
 *              LANYARD_SHIM_USER_PIN), since SoftHSM2 lets only the user
 *              make private objects; the session reports the SO state.
 *   removed    the token is gone: no slot lists it and open sessions
 *              answer CKR_DEVICE_REMOVED. Like tpm2-pkcs11 and PC/SC
 *              middlewares, the module then answers CKR_GENERAL_ERROR on
 *              every call, even once the token is back, until it is
 *              finalized and initialized again.
 *
 * C_SignInit calls are counted in the file LANYARD_SHIM_SIGNS, if set.
 * SoftHSM2 itself is initialised once and never finalised by the shim, so
 * the test bed's own use of it is undisturbed.
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
#include <time.h>

static CK_FUNCTION_LIST shim;
static CK_FUNCTION_LIST_PTR real;
static int stale;       /* the token went away since C_Initialize */
static int initialized;
static int officer;     /* "piv": the security officer is logged in */

/* state returns the number after want when the state file starts with want, else -1. */
static long state(const char *want) {
	const char *path = getenv("LANYARD_SHIM_STATE");
	char buf[64] = {0};
	FILE *f = path ? fopen(path, "r") : NULL;
	if (!f) return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	size_t w = strlen(want);
	if (strncmp(buf, want, w) != 0 || (buf[w] != 0 && buf[w] != ' ' && buf[w] != '\n')) return -1;
	return atol(buf + w);
}

static int is(const char *want) { return state(want) >= 0; }

static void sleepMS(long ms) {
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* gone reports whether calls must fail now, and with what. */
static CK_RV gone(CK_RV whenRemoved) {
	if (!initialized) return CKR_CRYPTOKI_NOT_INITIALIZED;
	if (is("removed")) {
		stale = 1;
		return whenRemoved;
	}
	return stale ? CKR_GENERAL_ERROR : CKR_OK;
}

static CK_RV shimInitialize(CK_VOID_PTR args) {
	if (initialized) return CKR_CRYPTOKI_ALREADY_INITIALIZED;
	CK_RV rv = real->C_Initialize(args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) return rv;
	initialized = 1;
	stale = 0;
	return CKR_OK;
}

static CK_RV shimFinalize(CK_VOID_PTR reserved) {
	if (!initialized) return CKR_CRYPTOKI_NOT_INITIALIZED;
	initialized = 0;
	return CKR_OK;
}

static CK_RV shimGetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count) {
	CK_RV rv = gone(CKR_OK);
	if (rv != CKR_OK) return rv;
	if (is("removed") && present) {
		*count = 0;
		return CKR_OK;
	}
	return real->C_GetSlotList(present, list, count);
}

static CK_RV shimGetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
	CK_RV rv = gone(CKR_TOKEN_NOT_PRESENT);
	if (rv != CKR_OK) return rv;
	rv = real->C_GetTokenInfo(slot, info);
	if (rv != CKR_OK) return rv;
	if (is("flag")) info->flags |= CKF_USER_PIN_LOCKED;
	if (is("noflags")) info->flags &= ~(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
	return rv;
}

static CK_RV shimOpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify, CK_SESSION_HANDLE_PTR s) {
	CK_RV rv = gone(CKR_TOKEN_NOT_PRESENT);
	return rv != CKR_OK ? rv : real->C_OpenSession(slot, flags, app, notify, s);
}

static CK_RV shimLogin(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len) {
	CK_RV rv = gone(CKR_DEVICE_REMOVED);
	if (rv != CKR_OK) return rv;
	if (user != CKU_SO && (is("flag") || is("login"))) return CKR_PIN_LOCKED;
	if (is("piv") && user == CKU_SO) {
		if (officer) return CKR_USER_ALREADY_LOGGED_IN;
		rv = real->C_Login(s, CKU_SO, pin, len);
		if (rv != CKR_OK) return rv;
		real->C_Logout(s);
		const char *up = getenv("LANYARD_SHIM_USER_PIN");
		rv = real->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)up, up ? strlen(up) : 0);
		if (rv == CKR_OK) officer = 1;
		return rv;
	}
	if (is("piv") && officer) return CKR_USER_ANOTHER_ALREADY_LOGGED_IN;
	return real->C_Login(s, user, pin, len);
}

static CK_RV shimLogout(CK_SESSION_HANDLE s) {
	CK_RV rv = gone(CKR_DEVICE_REMOVED);
	if (rv != CKR_OK) return rv;
	officer = 0;
	return real->C_Logout(s);
}

static CK_RV shimGetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO_PTR info) {
	CK_RV rv = real->C_GetSessionInfo(s, info);
	if (rv == CKR_OK && officer) info->state = CKS_RW_SO_FUNCTIONS;
	return rv;
}

static CK_RV shimCreateObject(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR h) {
	if (is("piv") && !officer) return CKR_USER_NOT_LOGGED_IN;
	return real->C_CreateObject(s, t, n, h);
}

static CK_RV shimFindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n) {
	CK_RV rv = gone(CKR_DEVICE_REMOVED);
	return rv != CKR_OK ? rv : real->C_FindObjectsInit(s, t, n);
}

static CK_RV shimSignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) {
	CK_RV rv = gone(CKR_DEVICE_REMOVED);
	if (rv != CKR_OK) return rv;
	if (is("piv") && officer) return CKR_USER_NOT_LOGGED_IN;
	const char *count = getenv("LANYARD_SHIM_SIGNS");
	FILE *f = count ? fopen(count, "a") : NULL;
	if (f) {
		fputc('.', f);
		fclose(f);
	}
	return real->C_SignInit(s, m, k);
}

static CK_RV shimSign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR siglen) {
	CK_RV rv = gone(CKR_DEVICE_REMOVED);
	if (rv != CKR_OK) return rv;
	long ms;
	if (sig != NULL && (ms = state("touch")) > 0) sleepMS(ms);
	if (sig != NULL && (ms = state("untouched")) >= 0) {
		sleepMS(ms);
		real->C_Sign(s, data, len, sig, siglen); /* ends the operation */
		return CKR_FUNCTION_FAILED;
	}
	return real->C_Sign(s, data, len, sig, siglen);
}

static CK_RV shimGenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pub, CK_ULONG npub,
		CK_ATTRIBUTE_PTR priv, CK_ULONG npriv, CK_OBJECT_HANDLE_PTR hpub, CK_OBJECT_HANDLE_PTR hpriv) {
	if (is("nokeygen") || (is("piv") && !officer)) return CKR_USER_NOT_LOGGED_IN;
	return real->C_GenerateKeyPair(s, m, pub, npub, priv, npriv, hpub, hpriv);
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out) {
	if (!real) {
		void *h = dlopen(getenv("LANYARD_SHIM_MODULE"), RTLD_NOW);
		CK_C_GetFunctionList get = h ? (CK_C_GetFunctionList)dlsym(h, "C_GetFunctionList") : NULL;
		if (!get || get(&real) != CKR_OK) return CKR_GENERAL_ERROR;
		shim = *real;
		shim.C_Initialize = shimInitialize;
		shim.C_Finalize = shimFinalize;
		shim.C_GetSlotList = shimGetSlotList;
		shim.C_GetTokenInfo = shimGetTokenInfo;
		shim.C_OpenSession = shimOpenSession;
		shim.C_Login = shimLogin;
		shim.C_FindObjectsInit = shimFindObjectsInit;
		shim.C_SignInit = shimSignInit;
		shim.C_Sign = shimSign;
		shim.C_GenerateKeyPair = shimGenerateKeyPair;
		shim.C_Logout = shimLogout;
		shim.C_GetSessionInfo = shimGetSessionInfo;
		shim.C_CreateObject = shimCreateObject;
	}
	*out = &shim;
	return CKR_OK;
}
