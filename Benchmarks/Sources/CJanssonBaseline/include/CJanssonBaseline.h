#ifndef CJANSSON_BASELINE_H
#define CJANSSON_BASELINE_H

#include <stddef.h>

/// Parses the buffer `rounds` times with plain jansson (json_loadb + json_decref).
/// Returns the number of successful parses. The ceiling for any jansson-based parser.
long cjansson_baseline_parse(const char *buffer, size_t length, long rounds);

#endif
