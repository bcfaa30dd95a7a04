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

/// Decodes a JPEG held in memory with libjpeg's defaults (ISLOW DCT, fancy upsampling), as PIL
/// does. Output is row-major, top row first, *components bytes per pixel:
/// 1 = grayscale, 3 = RGB, 4 = CMYK exactly as stored in the file (Adobe files store it inverted).
/// Dimensions are checked against the limits BEFORE any pixel buffer is allocated.
/// On HAT_JPEG_OK, *out (malloc'd, caller frees) holds width*height*components bytes.
static inline int hat_jpeg_decode(const unsigned char *data, size_t size,
                                  long max_side, long max_pixels,
                                  long *width, long *height, int *components,
                                  unsigned char **out, char *err) {
    *out = NULL; *width = 0; *height = 0; *components = 0; err[0] = 0;
    struct jpeg_decompress_struct cinfo;
    hat_jpeg_error jerr;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = hat_jpeg_error_exit;
    jerr.pub.emit_message = hat_jpeg_emit_message;
    jerr.pub.output_message = hat_jpeg_output_message;
    jerr.err = err;
    // Written after setjmp and read after a longjmp: must be volatile.
    unsigned char *volatile pixels = NULL;
    if (setjmp(jerr.jump)) {
        free(pixels);
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
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK: case JCS_YCCK: cinfo.out_color_space = JCS_CMYK; break;
    default: cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&cinfo);
    int n = cinfo.output_components;
    long w = (long)cinfo.output_width, h = (long)cinfo.output_height;
    if (w != *width || h != *height || (n != 1 && n != 3 && n != 4)) {
        strcpy(err, "unsupported JPEG layout");
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_ERROR;
    }
    pixels = (unsigned char *)malloc((size_t)w * (size_t)h * (size_t)n);
    if (!pixels) {
        strcpy(err, "out of memory");
        jpeg_destroy_decompress(&cinfo);
        return HAT_JPEG_NOMEM;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * (size_t)w * (size_t)n;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *components = n;
    *out = pixels;
    return HAT_JPEG_OK;
}
