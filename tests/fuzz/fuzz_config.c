/* libFuzzer target for config: pa_config_load_buffer on arbitrary bytes must never crash, leak or hang, and an
 * error must always be one "name:line:col: ..." line.
 * Run by tests/fuzz/run.sh (and, 60 s, by run-all.sh); its corpus is replayed by meson test fuzz-replay-*. By hand:
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/fuzz_config.c \
 *     src/config.c src/util.c src/detect.c src/jsonwalk.c $(pkg-config --cflags --libs yaml-0.1 libhs) -lm \
 *     -o /tmp/fuzz_config
 *   /tmp/fuzz_config -max_total_time=60 -max_len=4096 /tmp/corpus tests/fuzz/corpus/config
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pa_config *c = NULL;
    char err[512];
    if (pa_config_load_buffer("fuzz.yaml", (const char *)data, size, &c, err, sizeof err) == 0) {
        /* exercise what the daemon does with a loaded config */
        for (size_t i = 0; i < c->n_surfaces; i++)
            if (pa_config_find_surface(c, c->surfaces[i].name) == NULL)
                abort();
        pa_config_free(c);
    } else {
        if (c != NULL || strncmp(err, "fuzz.yaml:", 10) != 0 || strchr(err, '\n') != NULL)
            abort();
    }
    return 0;
}
