// libpng (Debian libpng-dev), plus small C helpers used only by HatImaging/PNGCodec.swift.
//
// libpng reports errors by longjmp. A longjmp must never cross Swift frames, so every libpng call
// that can fail happens inside one of these helpers, each of which owns its setjmp. The helpers
// return 0 on success and otherwise fill `err` (a caller-provided, NUL-terminated message buffer).
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define HAT_PNG_ERR_LEN 200

/// Return codes of hat_png_decode.
enum {
    HAT_PNG_OK = 0,
    HAT_PNG_ERROR = 1,      // libpng error (corrupt, truncated, unsupported): message in err
    HAT_PNG_TOO_LARGE = 2,  // header dimensions exceed the limits: *width/*height are set, nothing allocated
    HAT_PNG_EMPTY = 3,      // zero width or height in the header
    HAT_PNG_NOMEM = 4,
};

/// Reads from a memory buffer; running past its end is a libpng error ("truncated").
typedef struct {
    const unsigned char *data;
    size_t size;
    size_t pos;
    char *err;
} hat_png_source;

static inline void hat_png_error_fn(png_structp png, png_const_charp msg) {
    hat_png_source *src = (hat_png_source *)png_get_error_ptr(png);
    if (src && src->err) {
        strncpy(src->err, msg ? msg : "libpng error", HAT_PNG_ERR_LEN - 1);
        src->err[HAT_PNG_ERR_LEN - 1] = 0;
    }
    png_longjmp(png, 1);
}

static inline void hat_png_warning_fn(png_structp png, png_const_charp msg) {
    (void)png; (void)msg;  // warnings (e.g. bad ancillary chunk CRC) are not fatal, like PIL
}

static inline void hat_png_read_fn(png_structp png, png_bytep out, size_t n) {
    hat_png_source *src = (hat_png_source *)png_get_io_ptr(png);
    if (n > src->size - src->pos) png_error(png, "truncated PNG data");
    memcpy(out, src->data + src->pos, n);
    src->pos += n;
}

/// Decodes a whole PNG held in memory to 8-bit RGB, row-major, top row first, like PIL's
/// convert("RGB"): palette expanded (tRNS ignored), gray replicated, 1/2/4-bit gray scaled to
/// 0...255, 16-bit reduced to the high byte, alpha dropped (not composited), interlacing undone.
/// Two calls: with out == NULL it only reads the header, checks the dimensions against the limits
/// (HAT_PNG_EMPTY / HAT_PNG_TOO_LARGE) and sets *width, *height; then, with out pointing to
/// width*height*3 bytes (out_capacity), it decodes into that buffer. So the caller allocates the
/// pixels exactly once, and only after the header passed the limits.
static inline int hat_png_decode(const unsigned char *data, size_t size,
                                 long max_side, long max_pixels,
                                 long *width, long *height,
                                 unsigned char *out, size_t out_capacity, char *err) {
    *width = 0; *height = 0; err[0] = 0;
    hat_png_source src = { data, size, 0, err };
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, hat_png_error_fn, hat_png_warning_fn);
    if (!png) { strcpy(err, "libpng could not start"); return HAT_PNG_NOMEM; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); strcpy(err, "libpng could not start"); return HAT_PNG_NOMEM; }
    // Written after setjmp and read after a longjmp: must be volatile.
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return HAT_PNG_ERROR;
    }
    png_set_read_fn(png, &src, hat_png_read_fn);
    // libpng's own limit is 1e6 per side; ours is stricter and checked below before any pixels.
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, &interlace, NULL, NULL);
    *width = (long)w; *height = (long)h;
    if (w == 0 || h == 0) { png_destroy_read_struct(&png, &info, NULL); return HAT_PNG_EMPTY; }
    if ((long)w > max_side || (long)h > max_side || (long)w * (long)h > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        return HAT_PNG_TOO_LARGE;
    }
    if (!out) { png_destroy_read_struct(&png, &info, NULL); return HAT_PNG_OK; }
    if (out_capacity < (size_t)w * (size_t)h * 3) {
        strcpy(err, "output buffer too small");
        png_destroy_read_struct(&png, &info, NULL);
        return HAT_PNG_ERROR;
    }

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_strip_16(png);  // chops to the high byte (not png_set_scale_16)
    // Unconditional: palette expansion turns a tRNS chunk into an alpha channel, dropped here too.
    png_set_strip_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);

    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8
        || png_get_rowbytes(png, info) != (size_t)w * 3) {
        strcpy(err, "unsupported PNG pixel layout");
        png_destroy_read_struct(&png, &info, NULL);
        return HAT_PNG_ERROR;
    }
    rows = (png_bytep *)malloc(sizeof(png_bytep) * (size_t)h);
    if (!rows) {
        png_destroy_read_struct(&png, &info, NULL);
        strcpy(err, "out of memory");
        return HAT_PNG_NOMEM;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out + (size_t)y * (size_t)w * 3;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return HAT_PNG_OK;
}

/// A growing memory buffer that libpng writes into.
typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    char *err;
} hat_png_sink;

static inline void hat_png_write_fn(png_structp png, png_bytep bytes, size_t n) {
    hat_png_sink *sink = (hat_png_sink *)png_get_io_ptr(png);
    if (sink->size + n > sink->capacity) {
        size_t cap = sink->capacity ? sink->capacity : 4096;
        while (cap < sink->size + n) cap *= 2;
        unsigned char *grown = (unsigned char *)realloc(sink->data, cap);
        if (!grown) png_error(png, "out of memory");
        sink->data = grown; sink->capacity = cap;
    }
    memcpy(sink->data + sink->size, bytes, n);
    sink->size += n;
}

static inline void hat_png_flush_fn(png_structp png) { (void)png; }

static inline void hat_png_write_error_fn(png_structp png, png_const_charp msg) {
    char *err = (char *)png_get_error_ptr(png);
    if (err) { strncpy(err, msg ? msg : "libpng error", HAT_PNG_ERR_LEN - 1); err[HAT_PNG_ERR_LEN - 1] = 0; }
    png_longjmp(png, 1);
}

/// Encodes 8-bit RGB (width*height*3 bytes, row-major) as a non-interlaced PNG in memory,
/// with libpng's adaptive row filters.
/// On success *out (malloc'd, caller frees) holds *out_size bytes.
/// `level` is the zlib compression level 0...9 (-1 = zlib's default, 6).
static inline int hat_png_encode(const unsigned char *rgb, long width, long height, int level,
                          unsigned char **out, size_t *out_size, char *err) {
    *out = NULL; *out_size = 0; err[0] = 0;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err, hat_png_write_error_fn, hat_png_warning_fn);
    if (!png) { strcpy(err, "libpng could not start"); return HAT_PNG_NOMEM; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); strcpy(err, "libpng could not start"); return HAT_PNG_NOMEM; }
    hat_png_sink sink = { NULL, 0, 0, err };
    // The sink's pointer is updated inside libpng callbacks; read it back through a volatile pointer.
    hat_png_sink *volatile sinkp = &sink;
    if (setjmp(png_jmpbuf(png))) {
        free(sinkp->data);
        png_destroy_write_struct(&png, &info);
        return HAT_PNG_ERROR;
    }
    png_set_write_fn(png, sinkp, hat_png_write_fn, hat_png_flush_fn);
    png_set_compression_level(png, level);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (long y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)width * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    *out = sinkp->data; *out_size = sinkp->size;
    return HAT_PNG_OK;
}
