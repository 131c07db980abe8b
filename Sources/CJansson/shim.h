#ifndef CJANSSON_SHIM_H
#define CJANSSON_SHIM_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

// Swift cannot import jansson's function-like macros; these wrappers give them a typed signature.

static inline int cjansson_typeof(const json_t *json) { return json_typeof(json); }

static inline size_t cjansson_indent(size_t n) { return JSON_INDENT(n); }

static inline size_t cjansson_real_precision(size_t n) { return JSON_REAL_PRECISION(n); }

static inline int cjansson_error_code(const json_error_t *error) { return (int)json_error_code(error); }

static inline json_t *cjansson_boolean(int value) { return value ? json_true() : json_false(); }

/// Text that `cjansson_append` collects from json_dump_callback: `bytes` comes from realloc and
/// belongs to the caller, who frees it.
typedef struct {
    char *bytes;
    size_t count;
    size_t capacity;
} cjansson_text;

/// A json_dump_callback sink that appends each piece to a `cjansson_text` (the context), growing
/// it by doubling; -1 (which stops the dump) when memory runs out. In C, so a token costs a
/// memcpy rather than a call into Swift.
static inline int cjansson_append(const char *chunk, size_t size, void *context) {
    cjansson_text *text = (cjansson_text *)context;
    if (size > text->capacity - text->count) {
        size_t capacity = text->capacity ? text->capacity : 4096;
        while (capacity - text->count < size) {
            if (capacity > ((size_t)-1) / 2) return -1;
            capacity *= 2;
        }
        char *grown = (char *)realloc(text->bytes, capacity);
        if (!grown) return -1;
        text->bytes = grown;
        text->capacity = capacity;
    }
    memcpy(text->bytes + text->count, chunk, size);
    text->count += size;
    return 0;
}

#endif
