#include "CJanssonBaseline.h"
#include <jansson.h>

long cjansson_baseline_parse(const char *buffer, size_t length, long rounds) {
    long ok = 0;
    for (long i = 0; i < rounds; i++) {
        json_error_t error;
        json_t *value = json_loadb(buffer, length, JSON_DECODE_ANY, &error);
        if (value) {
            ok++;
            json_decref(value);
        }
    }
    return ok;
}
