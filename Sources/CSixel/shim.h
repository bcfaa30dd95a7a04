// libsixel (Debian libsixel-dev): its median-cut palette for sixel pictures. Only
// HatTUI/SixelEncoder.swift imports this module (which writes the sixel bands itself: libsixel's
// own band encoder took three times as long for our pictures).
#include <string.h>
#include <sixel/sixel.h>

/// libsixel's palette for width x height RGB888 pixels: at most `colors` entries (median cut) as
/// RGB triples into palette[0 ..< 3 * colors]. Returns the number of entries, -1 on failure.
static inline int hs_sixel_palette(unsigned char *rgb, int width, int height, int colors, int quality,
                                   unsigned char *palette) {
    sixel_dither_t *dither = NULL;
    if (SIXEL_FAILED(sixel_dither_new(&dither, colors, NULL))) return -1;
    SIXELSTATUS st = sixel_dither_initialize(dither, rgb, width, height, SIXEL_PIXELFORMAT_RGB888, SIXEL_LARGE_AUTO,
                                             SIXEL_REP_AUTO, quality);
    int n = -1;
    if (!SIXEL_FAILED(st)) {
        n = sixel_dither_get_num_of_palette_colors(dither);
        unsigned char *p = sixel_dither_get_palette(dither);
        if (!p || n < 1 || n > colors) n = -1; else memcpy(palette, p, (size_t)n * 3);
    }
    sixel_dither_unref(dither);
    return n;
}

static inline int hs_sixel_quality_low(void) { return SIXEL_QUALITY_LOW; }
