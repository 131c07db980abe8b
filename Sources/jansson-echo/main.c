// The ceiling for any jansson-based JSON-RPC server, for the benchmark: reads newline-delimited
// requests from stdin, parses each with jansson, and writes back the same reply bytes (read once
// from the file given as the first argument) followed by a newline.
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: jansson-echo REPLY_FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *reply = malloc(size + 1);
    if (fread(reply, 1, size, f) != (size_t)size) return 1;
    fclose(f);
    reply[size] = '\n';

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
        end += n;
        char *newline;
        while ((newline = memchr(buffer + start, '\n', end - start))) {
            size_t length = newline - (buffer + start);
            json_error_t error;
            json_t *request = json_loadb(buffer + start, length, 0, &error);
            if (request) json_decref(request);
            for (size_t written = 0; written < (size_t)size + 1;) {
                ssize_t w = write(1, reply + written, size + 1 - written);
                if (w <= 0) return 1;
                written += w;
            }
            start += length + 1;
        }
    }
    return 0;
}
