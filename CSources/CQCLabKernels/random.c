// MT19937 (Matsumoto & Nishimura, ACM TOMACS 8, 3 (1998)) as NumPy's legacy generator runs
// it, for many generators in lockstep: word w of stream s is keys[w * streams + s], so
// seeding, the state refill and the tempering all run as loops over contiguous streams
// and vectorize. One stream is the classic layout. LegacyRandomStreams.swift wraps these.
#include "CQCLabKernels.h"
#include "lanes.h"

QCLAB_CLONES
void qclab_mt19937_seed(int64_t streams, uint32_t *restrict keys, const uint32_t *restrict seeds) {
    for (int64_t s = 0; s < streams; s++) keys[s] = seeds[s];
    for (int64_t w = 1; w < 624; w++) {
        const uint32_t *restrict previous = keys + (w - 1) * streams;
        uint32_t *restrict current = keys + w * streams;
        for (int64_t s = 0; s < streams; s++) {
            current[s] = 1812433253u * (previous[s] ^ (previous[s] >> 30)) + (uint32_t)w;
        }
    }
}

/// One word of the refill: key[i] = key[far] ^ twist(key[i], key[next]), for every stream.
static inline void mix(int64_t streams, uint32_t *keys, int64_t i, int64_t next, int64_t far) {
    uint32_t *restrict word = keys + i * streams;
    const uint32_t *restrict following = keys + next * streams;
    const uint32_t *restrict distant = keys + far * streams;
    // The three rows are distinct (i, next and far differ), but an inlined function's
    // `restrict` does not reach the vectorizer, whose run-time overlap check spans all the
    // rows of a segment and so sent the first segment to the scalar loop: say so to it.
#pragma clang loop vectorize(assume_safety)
    for (int64_t s = 0; s < streams; s++) {
        const uint32_t y = (word[s] & 0x80000000u) | (following[s] & 0x7fffffffu);
        word[s] = distant[s] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
    }
}

QCLAB_CLONES
static void twist(int64_t streams, uint32_t *keys) {
    // In the reference implementation's three segments, so that no index wraps.
    for (int64_t i = 0; i < 227; i++) mix(streams, keys, i, i + 1, i + 397);
    for (int64_t i = 227; i < 623; i++) mix(streams, keys, i, i + 1, i - 227);
    mix(streams, keys, 623, 0, 396);
}

/// The next word of every stream, refilling the keys when they are used up.
static inline const uint32_t *next_words(int64_t streams, uint32_t *keys, int64_t *position) {
    if (*position >= 624) {
        twist(streams, keys);
        *position = 0;
    }
    return keys + (*position)++ * streams;
}

static inline uint32_t temper(uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
}

QCLAB_CLONES
void qclab_mt19937_next(int64_t streams, uint32_t *keys, int64_t *position, uint32_t *restrict out) {
    const uint32_t *restrict words = next_words(streams, keys, position);
    for (int64_t s = 0; s < streams; s++) out[s] = temper(words[s]);
}

QCLAB_CLONES
void qclab_mt19937_uniform(int64_t streams, uint32_t *keys, int64_t *position, double *restrict out) {
    // (a 2^26 + b) / 2^53 from the top 27 and 26 bits of two words (NumPy's random_sample);
    // a is kept in `out` before the second word, whose fetch may refill the keys.
    const uint32_t *restrict first = next_words(streams, keys, position);
    for (int64_t s = 0; s < streams; s++) out[s] = (double)(temper(first[s]) >> 5);
    const uint32_t *restrict second = next_words(streams, keys, position);
    for (int64_t s = 0; s < streams; s++) {
        out[s] = (out[s] * 67108864.0 + (double)(temper(second[s]) >> 6)) / 9007199254740992.0;
    }
}
