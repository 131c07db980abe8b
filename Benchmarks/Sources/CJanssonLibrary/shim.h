// jansson's headers for the C baselines (CJanssonBaseline, jansson-echo).
#include <jansson.h>
