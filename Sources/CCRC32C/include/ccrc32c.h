#ifndef CCRC32C_H
#define CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// Whether this processor has the CRC-32C instruction (x86-64 SSE 4.2); 0 elsewhere.
int ccrc32c_hardware_available(void);

/// Continues the CRC-32C register `crc` over `count` bytes at `bytes` with the processor's
/// instruction: the same update as the software table (no initial or final inversion here).
/// Call only when `ccrc32c_hardware_available()` returned 1.
uint32_t ccrc32c_hardware_update(uint32_t crc, const void *bytes, size_t count);

#endif
