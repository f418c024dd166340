/*
 * A test-only stand-in for bcryptprimitives.dll, which Wine 8 lacks: Go's
 * Windows runtime gets its random bytes from ProcessPrng there and stops
 * at start without it. This one answers through BCryptGenRandom, which
 * Wine has. It is built and copied into a throwaway Wine prefix by
 * .ci/wine-smoke and is never shipped.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
	return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}
