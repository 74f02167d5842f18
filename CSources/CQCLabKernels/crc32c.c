// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) of output files and checkpoints.
// SSE 4.2's crc32 instruction takes eight bytes a step; elsewhere a byte-wise table does
// the same arithmetic. The table and the choice are made once, as the library loads
// (before any thread of ours can ask).
#include "CQCLabKernels.h"
#include <string.h>

static uint32_t crc32c_table[256];

static int crc32c_hardware;

__attribute__((constructor))
static void crc32c_prepare(void) {
    for (uint32_t index = 0; index < 256; index++) {
        uint32_t crc = index;
        for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        crc32c_table[index] = crc;
    }
#if defined(__x86_64__)
    crc32c_hardware = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc32c_portable(uint32_t crc, const unsigned char *bytes, size_t count) {
    for (size_t i = 0; i < count; i++) crc = crc32c_table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2")))
static uint32_t crc32c_sse42(uint32_t crc, const unsigned char *bytes, size_t count) {
    uint64_t wide = crc;
    for (; count >= 8; bytes += 8, count -= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        wide = __builtin_ia32_crc32di(wide, word);
    }
    uint32_t narrow = (uint32_t)wide;
    for (; count > 0; bytes++, count--) narrow = __builtin_ia32_crc32qi(narrow, *bytes);
    return narrow;
}
#endif

uint32_t qclab_crc32c_update(uint32_t crc, const void *bytes, size_t count, int portable) {
#if defined(__x86_64__)
    if (crc32c_hardware && !portable) return crc32c_sse42(crc, bytes, count);
#endif
    return crc32c_portable(crc, bytes, count);
}
