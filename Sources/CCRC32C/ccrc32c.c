#include "ccrc32c.h"

#include <string.h>

#if defined(__x86_64__)

#include <nmmintrin.h>

int ccrc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

/// Buffers of at least this many bytes are read as three interleaved streams (the instruction
/// takes three cycles but can start one a cycle), their registers combined at the end.
#define CCRC32C_STREAMS_FROM 16384

/// a * b modulo the CRC-32C polynomial (bit-reflected), as zlib's crc32_combine does it.
static uint32_t ccrc32c_multiply(uint32_t a, uint32_t b) {
    uint32_t m = (uint32_t)1 << 31;
    uint32_t product = 0;
    for (;;) {
        if (a & m) {
            product ^= b;
            if ((a & (m - 1)) == 0) break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ 0x82F63B78u : b >> 1;
    }
    return product;
}

/// x^(8 * count) modulo the polynomial: what running the register over `count` zero bytes
/// multiplies it by.
static uint32_t ccrc32c_shift(size_t count) {
    uint32_t power = (uint32_t)1 << 30;  // x^1, squared to x^2, x^4, x^8 (one byte), ...
    uint32_t result = (uint32_t)1 << 31;  // x^0
    for (int k = 0; k < 3; k++) power = ccrc32c_multiply(power, power);
    while (count) {
        if (count & 1) result = ccrc32c_multiply(power, result);
        power = ccrc32c_multiply(power, power);
        count >>= 1;
    }
    return result;
}

__attribute__((target("sse4.2"))) uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count) {
    const unsigned char *p = (const unsigned char *)bytes;
    uint64_t state = crc;
    if (count >= CCRC32C_STREAMS_FROM) {
        // The register over A B C is shift(shift(reg(A)) ^ reg0(B)) ^ reg0(C), where reg0 starts
        // from zero and shift runs it over as many zero bytes as a part has.
        size_t part = (count / 3) & ~(size_t)7;
        uint64_t a = state, b = 0, c = 0;
        for (size_t i = 0; i < part; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, p + i, 8);
            memcpy(&wb, p + part + i, 8);
            memcpy(&wc, p + 2 * part + i, 8);
            a = _mm_crc32_u64(a, wa);
            b = _mm_crc32_u64(b, wb);
            c = _mm_crc32_u64(c, wc);
        }
        uint32_t shift = ccrc32c_shift(part);
        uint32_t combined = ccrc32c_multiply(shift, (uint32_t)a) ^ (uint32_t)b;
        state = ccrc32c_multiply(shift, combined) ^ (uint32_t)c;
        p += 3 * part;
        count -= 3 * part;
    }
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);  // unaligned load
        state = _mm_crc32_u64(state, word);
        p += 8;
        count -= 8;
    }
    uint32_t rest = (uint32_t)state;
    while (count > 0) {
        rest = _mm_crc32_u8(rest, *p);
        p++;
        count--;
    }
    return rest;
}

#else

int ccrc32c_hardware_available(void) { return 0; }

uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return crc;
}

#endif
