// libjpeg-turbo's libjpeg API (Debian libjpeg62-turbo-dev), plus small C helpers used only by
// HatImaging/JPEGCodec.swift. jpeglib.h needs stdio's FILE and size_t first.
//
// libjpeg's default error_exit calls exit(). Here errors longjmp back into hat_jpeg_decode, which
// owns the setjmp, so no longjmp crosses Swift frames and no JPEG can end the process.
#include <stdio.h>
#include <stddef.h>
#include <jpeglib.h>
#include <jerror.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#define HAT_JPEG_ERR_LEN 200

/// Return codes of hat_jpeg_decode.
enum {
    HAT_JPEG_OK = 0,
    HAT_JPEG_ERROR = 1,      // corrupt, truncated or unsupported: message in err
    HAT_JPEG_TOO_LARGE = 2,  // header dimensions exceed the limits: *width/*height set, nothing allocated
    HAT_JPEG_EMPTY = 3,      // zero width or height
    HAT_JPEG_NOMEM = 4,
};

typedef struct {
    struct jpeg_error_mgr pub;  // must be first: libjpeg sees a jpeg_error_mgr*
    jmp_buf jump;
    char *err;
} hat_jpeg_error;

static inline void hat_jpeg_error_exit(j_common_ptr cinfo) {
    hat_jpeg_error *e = (hat_jpeg_error *)cinfo->err;
    char buffer[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, buffer);
    strncpy(e->err, buffer, HAT_JPEG_ERR_LEN - 1);
    e->err[HAT_JPEG_ERR_LEN - 1] = 0;
    longjmp(e->jump, 1);
}

/// Warnings are silent, except running out of data: libjpeg would pad a truncated file with grey
/// and carry on, whereas PIL refuses truncated images ("image file is truncated").
static inline void hat_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        hat_jpeg_error_exit(cinfo);
    }
}

static inline void hat_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/// PIL's cmyk2rgb for one channel of a JPEG stored the Adobe way (inverted, as PIL's "CMYK;I"
/// assumes for every JPEG): ink = 255 - stored, nk = 255 - black = stored K;
/// out = clip(nk - MULDIV255(ink, nk)) with PIL's integer rounding.
static inline unsigned char hat_jpeg_cmyk_channel(int stored, int stored_k) {
    int ink = 255 - stored, nk = stored_k;
    int tmp = ink * nk + 128;
    int v = nk - (((tmp >> 8) + tmp) >> 8);
    return (unsigned char)(v < 0 ? 0 : (v > 255 ? 255 : v));
}

/// Decodes a JPEG held in memory with libjpeg's defaults (ISLOW DCT, fancy upsampling), as PIL
/// does, to 8-bit RGB, row-major, top row first: grayscale replicated, CMYK/YCCK converted with
/// PIL's formula.
/// Two calls: with out == NULL it only reads the header, checks the dimensions against the limits
/// (HAT_JPEG_EMPTY / HAT_JPEG_TOO_LARGE) and sets *width, *height; then, with out pointing to
/// width*height*3 bytes (out_capacity), it decodes into that buffer.
static inline int hat_jpeg_decode(const unsigned char *data, size_t size,
                                  long max_side, long max_pixels,
                                  long *width, long *height,
                                  unsigned char *out, size_t out_capacity, char *err) {
    *width = 0; *height = 0; err[0] = 0;
    struct jpeg_decompress_struct cinfo;
    hat_jpeg_error jerr;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = hat_jpeg_error_exit;
    jerr.pub.emit_message = hat_jpeg_emit_message;
    jerr.pub.output_message = hat_jpeg_output_message;
    jerr.err = err;
    // Written after setjmp and read after a longjmp: must be volatile.
    unsigned char *volatile row = NULL;
    if (setjmp(jerr.jump)) {
        free(row);
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_ERROR;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    *width = (long)cinfo.image_width; *height = (long)cinfo.image_height;
    if (cinfo.image_width == 0 || cinfo.image_height == 0) {
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_EMPTY;
    }
    if (*width > max_side || *height > max_side || *width * *height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_TOO_LARGE;
    }
    if (!out) { jpeg_destroy_decompress(&cinfo); return HAT_JPEG_OK; }
    if (out_capacity < (size_t)*width * (size_t)*height * 3) {
        strcpy(err, "output buffer too small");
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_ERROR;
    }
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK: case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);
    int n = cinfo.output_components;
    size_t w = cinfo.output_width;
    if ((long)w != *width || (long)cinfo.output_height != *height || (n != 1 && n != 3 && n != 4)) {
        strcpy(err, "unsupported JPEG layout");
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_ERROR;
    }
    if (n != 3) {
        // One row of gray or CMYK samples, converted into the RGB output row.
        row = (unsigned char *)malloc(w * (size_t)n);
        if (!row) { strcpy(err, "out of memory"); jpeg_destroy_decompress(&cinfo); return HAT_JPEG_NOMEM; }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        unsigned char *dst = out + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW target = n == 3 ? dst : row;
        if (jpeg_read_scanlines(&cinfo, &target, 1) != 1) {
            // Only a suspending data source returns no row; the memory source never should.
            strcpy(err, "JPEG decoding stalled");
            free(row);
            jpeg_destroy_decompress(&cinfo);
            return HAT_JPEG_ERROR;
        }
        if (n == 1) {
            for (size_t x = 0; x < w; x++) { dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = row[x]; }
        } else if (n == 4) {
            for (size_t x = 0; x < w; x++) {
                int k = row[4 * x + 3];
                dst[3 * x] = hat_jpeg_cmyk_channel(row[4 * x], k);
                dst[3 * x + 1] = hat_jpeg_cmyk_channel(row[4 * x + 1], k);
                dst[3 * x + 2] = hat_jpeg_cmyk_channel(row[4 * x + 2], k);
            }
        }
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return HAT_JPEG_OK;
}
