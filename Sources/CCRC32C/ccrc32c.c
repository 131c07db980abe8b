#include "ccrc32c.h"

#include <string.h>

#if defined(__x86_64__)

#include <nmmintrin.h>

int ccrc32c_hardware_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2"))) uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count) {
    const unsigned char *p = (const unsigned char *)bytes;
    uint64_t state = crc;
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
