#ifndef CJANSSON_SHIM_H
#define CJANSSON_SHIM_H

#include <jansson.h>

// Swift cannot import jansson's function-like macros; these wrappers give them a typed signature.

static inline int cjansson_typeof(const json_t *json) { return json_typeof(json); }

static inline size_t cjansson_indent(size_t n) { return JSON_INDENT(n); }

static inline size_t cjansson_real_precision(size_t n) { return JSON_REAL_PRECISION(n); }

static inline int cjansson_error_code(const json_error_t *error) { return (int)json_error_code(error); }

static inline json_t *cjansson_boolean(int value) { return value ? json_true() : json_false(); }

#endif
