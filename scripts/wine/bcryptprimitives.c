/*
 * bcryptprimitives.dll for Wine 8, which does not ship it.
 *
 * Rust's standard library for Windows (since 1.78) imports ProcessPrng from bcryptprimitives.dll to
 * seed HashMap keys, so a Rust test binary cannot even start under a Wine without that DLL. This one
 * exports ProcessPrng on top of BCryptGenRandom, which Wine 8 has. It is built into the test-only
 * Wine prefix by scripts/test.sh; nothing ships it.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    /* BCryptGenRandom takes a ULONG length: fill large requests in pieces. */
    while (len > 0) {
        ULONG piece = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, piece, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += piece;
        len -= piece;
    }
    return TRUE;
}
