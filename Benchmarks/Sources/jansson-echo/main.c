// The fair ceiling for any jansson-based JSON-RPC server, for the benchmark. It reads
// newline-delimited requests from stdin and, for every request, does the work any jansson server
// must do: parses the request with jansson, builds the reply as a jansson value (a deep copy of the
// result held in the file given as the first argument, with the request's "id"), serializes it
// with json_dumps and writes it followed by a newline.
//
// The file holds a whole reply as the real server wrote it ({"jsonrpc":"2.0","result":…,"id":…});
// only its "result" is used. It is parsed once; building the value per request is a deep copy.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(const char *bytes, size_t size) {
    for (size_t written = 0; written < size;) {
        ssize_t w = write(1, bytes + written, size - written);
        if (w <= 0) return -1;
        written += (size_t)w;
    }
    return 0;
}

static int answer(const char *request_bytes, size_t length, const json_t *result) {
    json_error_t error;
    json_t *request = json_loadb(request_bytes, length, JSON_REJECT_DUPLICATES, &error);
    json_t *reply = json_object();
    json_object_set_new(reply, "jsonrpc", json_string("2.0"));
    json_object_set_new(reply, "result", json_deep_copy(result));
    json_t *id = request ? json_object_get(request, "id") : NULL;
    json_object_set(reply, "id", id ? id : json_null());
    char *text = json_dumps(reply, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(reply);
    if (request) json_decref(request);
    if (!text) return -1;
    size_t size = strlen(text);
    int status = write_all(text, size);
    if (status == 0) status = write_all("\n", 1);
    free(text);
    return status;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: jansson-echo REPLY_FILE\n");
        return 2;
    }
    json_error_t error;
    json_t *file = json_load_file(argv[1], 0, &error);
    json_t *result = file ? json_object_get(file, "result") : NULL;
    if (!result) {
        fprintf(stderr, "%s: not a JSON-RPC reply with a result: %s\n", argv[1], error.text);
        return 1;
    }

    size_t capacity = 1 << 20, start = 0, end = 0;
    char *buffer = malloc(capacity);
    for (;;) {
        if (end == capacity) {
            memmove(buffer, buffer + start, end - start);
            end -= start;
            start = 0;
        }
        ssize_t n = read(0, buffer + end, capacity - end);
        if (n <= 0) break;
        end += (size_t)n;
        char *newline;
        while ((newline = memchr(buffer + start, '\n', end - start))) {
            size_t length = (size_t)(newline - (buffer + start));
            if (answer(buffer + start, length, result) != 0) return 1;
            start += length + 1;
        }
    }
    json_decref(file);
    return 0;
}
