/*
 * A stand-in for Windows' bcryptprimitives.dll, for the wine test only (`cargo xtask release --test`).
 *
 * Rust 1.78+ programs import ProcessPrng from bcryptprimitives.dll (Windows 10 and later have it);
 * Debian 12's wine 8.0 does not ship that DLL, so migcheck.exe would not start under it. The test
 * builds this file with mingw into its own fresh WINEPREFIX's system32. It never ships: the release
 * artifacts are migcheck.exe and the static Linux binary only.
 */
#include <windows.h>
#include <bcrypt.h>

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): fill the buffer with random bytes; always TRUE on Windows. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
