// libsixel (Debian libsixel-dev): the DEC sixel encoder. Only HatTUI/SixelEncoder.swift imports
// this module. The output callback appends to a growable byte buffer, so Swift passes no closure
// through C.
#include <stdlib.h>
#include <string.h>
#include <sixel/sixel.h>

typedef struct { unsigned char *data; size_t size, capacity; int failed; } hs_sixel_buffer;

static inline int hs_sixel_write(char *data, int size, void *priv) {
    hs_sixel_buffer *b = (hs_sixel_buffer *)priv;
    if (size <= 0) return 0;
    if (b->size + (size_t)size > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 65536;
        while (cap < b->size + (size_t)size) cap *= 2;
        unsigned char *p = (unsigned char *)realloc(b->data, cap);
        if (!p) { b->failed = 1; return -1; }
        b->data = p; b->capacity = cap;
    }
    memcpy(b->data + b->size, data, (size_t)size);
    b->size += (size_t)size;
    return size;
}

/// Encodes width x height RGB888 pixels as one sixel image (DCS ... ST) with at most `colors`
/// palette colours; `diffuse`: a SIXEL_DIFFUSE_* method. 0 and the bytes in *out on success.
static inline int hs_sixel_encode(unsigned char *rgb, int width, int height, int colors, int diffuse,
                                  int quality, hs_sixel_buffer *out) {
    sixel_output_t *output = NULL;
    sixel_dither_t *dither = NULL;
    SIXELSTATUS st = sixel_output_new(&output, hs_sixel_write, out, NULL);
    if (SIXEL_FAILED(st)) return -1;
    sixel_output_set_encode_policy(output, SIXEL_ENCODEPOLICY_FAST);
    st = sixel_dither_new(&dither, colors, NULL);
    if (SIXEL_FAILED(st)) { sixel_output_unref(output); return -1; }
    st = sixel_dither_initialize(dither, rgb, width, height, SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO,
                                 SIXEL_REP_AUTO, quality);
    if (!SIXEL_FAILED(st)) {
        sixel_dither_set_diffusion_type(dither, diffuse);
        st = sixel_encode(rgb, width, height, 8, dither, output);
    }
    sixel_dither_unref(dither);
    sixel_output_unref(output);
    return SIXEL_FAILED(st) || out->failed ? -1 : 0;
}

static inline void hs_sixel_free(hs_sixel_buffer *b) { free(b->data); b->data = NULL; b->size = b->capacity = 0; }

static inline int hs_sixel_diffuse_none(void) { return SIXEL_DIFFUSE_NONE; }
static inline int hs_sixel_diffuse_atkinson(void) { return SIXEL_DIFFUSE_ATKINSON; }
static inline int hs_sixel_diffuse_fs(void) { return SIXEL_DIFFUSE_FS; }
static inline int hs_sixel_quality_low(void) { return SIXEL_QUALITY_LOW; }
static inline int hs_sixel_quality_high(void) { return SIXEL_QUALITY_HIGH; }
static inline int hs_sixel_quality_auto(void) { return SIXEL_QUALITY_AUTO; }
