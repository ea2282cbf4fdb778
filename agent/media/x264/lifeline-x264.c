/*
 * lifeline-x264: the agent's H.264 encoder on Linux, driven frame by frame.
 *
 * The agent writes raw BGRX frames of one size to standard input, each after a 16-byte header, and
 * reads access units (Annex B, SPS and PPS in every keyframe) from standard output, each after a
 * 16-byte header. A frame's header can ask for an IDR and change the quality (CRF) from that frame on,
 * without restarting the encoder. The layout is mirrored in agent/media/x264-stream.ts.
 *
 *   frame header (little-endian):  "LLF1" | u32 payload bytes (width * height * 4) | u8 flags
 *                                  (bit 0: make this frame an IDR) | u8 crf (0: unchanged) | u16 0
 *                                  | u32 timestamp in ms (the agent's clock)
 *   unit header (little-endian):   "LLU1" | u32 payload bytes | u8 flags (bit 0: IDR) | 3 bytes 0
 *                                  | u32 timestamp in ms of the frame it encodes
 *
 * Built by `npm run build` (build/agent/x264-encoder.ts), statically against Debian's libx264.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <x264.h>

#define FRAME_HEADER_BYTES 16
#define UNIT_HEADER_BYTES 16
#define FLAG_KEYFRAME 1
#define MAX_COVERS 64
#define MAX_SIDE 16384

struct cover { int x, y, width, height; };

static void die(const char *message) {
  fprintf(stderr, "lifeline-x264: %s\n", message);
  exit(2);
}

static uint32_t read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void write_u32(uint8_t *p, uint32_t value) {
  p[0] = value & 0xff;
  p[1] = (value >> 8) & 0xff;
  p[2] = (value >> 16) & 0xff;
  p[3] = (value >> 24) & 0xff;
}

/* Reads exactly `size` bytes; 0 at a clean end of input before the first byte, 1 when read. */
static int read_exactly(uint8_t *buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = read(STDIN_FILENO, buffer + done, size - done);
    if (n == 0) {
      if (done == 0) return 0;
      die("the input ended inside a frame");
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      die("could not read the input");
    }
    done += (size_t)n;
  }
  return 1;
}

static void write_all(const uint8_t *buffer, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDOUT_FILENO, buffer, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      exit(0); /* the agent closed its end: nothing more to do */
    }
    buffer += n;
    size -= (size_t)n;
  }
}

/*
 * BGRX to 4:2:0 with BT.601 limited-range coefficients (what ffmpeg's swscale does for an untagged
 * picture, and what decoders assume without colour information); chroma is the mean of 2x2 pixels.
 * `width` and `height` are even; `stride` is the input row in bytes.
 */
static void bgrx_to_i420(const uint8_t *in, int stride, int width, int height, x264_picture_t *pic) {
  uint8_t *py = pic->img.plane[0], *pu = pic->img.plane[1], *pv = pic->img.plane[2];
  int sy = pic->img.i_stride[0], su = pic->img.i_stride[1], sv = pic->img.i_stride[2];
  for (int y = 0; y < height; y += 2) {
    const uint8_t *row0 = in + (size_t)y * stride, *row1 = row0 + stride;
    uint8_t *y0 = py + (size_t)y * sy, *y1 = y0 + sy;
    uint8_t *u = pu + (size_t)(y / 2) * su, *v = pv + (size_t)(y / 2) * sv;
    for (int x = 0; x < width; x += 2) {
      const uint8_t *a = row0 + x * 4, *b = a + 4, *c = row1 + x * 4, *d = c + 4;
      y0[x] = (uint8_t)(((66 * a[2] + 129 * a[1] + 25 * a[0] + 128) >> 8) + 16);
      y0[x + 1] = (uint8_t)(((66 * b[2] + 129 * b[1] + 25 * b[0] + 128) >> 8) + 16);
      y1[x] = (uint8_t)(((66 * c[2] + 129 * c[1] + 25 * c[0] + 128) >> 8) + 16);
      y1[x + 1] = (uint8_t)(((66 * d[2] + 129 * d[1] + 25 * d[0] + 128) >> 8) + 16);
      int r = a[2] + b[2] + c[2] + d[2], g = a[1] + b[1] + c[1] + d[1], bl = a[0] + b[0] + c[0] + d[0];
      u[x / 2] = (uint8_t)(((-38 * r - 74 * g + 112 * bl + 512) >> 10) + 128);
      v[x / 2] = (uint8_t)(((112 * r - 94 * g - 18 * bl + 512) >> 10) + 128);
    }
  }
}

/* Paints a rectangle of the picture black (other windows lying on a shared one). */
static void blank(x264_picture_t *pic, int width, int height, const struct cover *c) {
  int x0 = c->x < 0 ? 0 : c->x & ~1, y0 = c->y < 0 ? 0 : c->y & ~1;
  int x1 = c->x + c->width, y1 = c->y + c->height;
  if (x1 > width) x1 = width;
  if (y1 > height) y1 = height;
  x1 = (x1 + 1) & ~1;
  y1 = (y1 + 1) & ~1;
  if (x1 > width) x1 = width;
  if (y1 > height) y1 = height;
  if (x0 >= x1 || y0 >= y1) return;
  for (int y = y0; y < y1; y++) memset(pic->img.plane[0] + (size_t)y * pic->img.i_stride[0] + x0, 16, x1 - x0);
  for (int y = y0 / 2; y < y1 / 2; y++) {
    memset(pic->img.plane[1] + (size_t)y * pic->img.i_stride[1] + x0 / 2, 128, (x1 - x0) / 2);
    memset(pic->img.plane[2] + (size_t)y * pic->img.i_stride[2] + x0 / 2, 128, (x1 - x0) / 2);
  }
}

static int parse_int(const char *text, int min, int max, const char *what) {
  char *end;
  long value = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || value < min || value > max) {
    fprintf(stderr, "lifeline-x264: %s must be a number from %d to %d, not %s\n", what, min, max, text);
    exit(2);
  }
  return (int)value;
}

static void usage(void) {
  die("usage: lifeline-x264 --width W --height H [--fps N] [--keyint N] [--crf N] [--tune T] "
      "[--cover x,y,w,h]...");
}

int main(int argc, char **argv) {
  int width = 0, height = 0, fps = 30, keyint = 1800, crf = 23, covers = 0;
  const char *tune = "zerolatency";
  struct cover cover[MAX_COVERS];
  for (int i = 1; i < argc; i++) {
    const char *name = argv[i];
    if (i + 1 >= argc) usage();
    const char *value = argv[++i];
    if (!strcmp(name, "--width")) width = parse_int(value, 2, MAX_SIDE, "--width");
    else if (!strcmp(name, "--height")) height = parse_int(value, 2, MAX_SIDE, "--height");
    else if (!strcmp(name, "--fps")) fps = parse_int(value, 1, 240, "--fps");
    else if (!strcmp(name, "--keyint")) keyint = parse_int(value, 1, 100000, "--keyint");
    else if (!strcmp(name, "--crf")) crf = parse_int(value, 1, 51, "--crf");
    else if (!strcmp(name, "--tune")) tune = value;
    else if (!strcmp(name, "--cover")) {
      if (covers == MAX_COVERS) die("too many --cover rectangles");
      struct cover *c = &cover[covers++];
      if (sscanf(value, "%d,%d,%d,%d", &c->x, &c->y, &c->width, &c->height) != 4) usage();
    } else usage();
  }
  if (width == 0 || height == 0) usage();
  /* 4:2:0 needs even sizes: an odd last column or row is left out rather than the picture resampled. */
  int out_width = width & ~1, out_height = height & ~1;

  x264_param_t param;
  if (x264_param_default_preset(&param, "ultrafast", tune) < 0) die("unknown --tune");
  param.i_width = out_width;
  param.i_height = out_height;
  param.i_csp = X264_CSP_I420;
  param.i_fps_num = (uint32_t)fps; /* for the level and rate control; frames come when the screen changes */
  param.i_fps_den = 1;
  param.i_timebase_num = 1;
  param.i_timebase_den = 1000;
  /* Timestamps pass through; with variable-rate input x264 would hold each frame until the next one
     came, to know its duration: a change would go out only when the screen changed again. */
  param.b_vfr_input = 0;
  param.i_keyint_max = keyint;
  param.i_bframe = 0;
  param.b_repeat_headers = 1;
  param.b_annexb = 1;
  param.b_aud = 0;
  param.rc.i_rc_method = X264_RC_CRF;
  param.rc.f_rf_constant = (float)crf;
  param.i_log_level = X264_LOG_ERROR;
  if (x264_param_apply_profile(&param, "baseline") < 0) die("the baseline profile was refused");
  x264_t *encoder = x264_encoder_open(&param);
  if (!encoder) die("x264 could not open an encoder with these settings");

  x264_picture_t picture, encoded;
  if (x264_picture_alloc(&picture, X264_CSP_I420, out_width, out_height) < 0) die("out of memory");
  size_t frame_bytes = (size_t)width * height * 4;
  uint8_t *frame = malloc(frame_bytes);
  if (!frame) die("out of memory");
  uint8_t header[FRAME_HEADER_BYTES];
  int64_t last_pts = -1;
  for (;;) {
    if (!read_exactly(header, FRAME_HEADER_BYTES)) break;
    if (memcmp(header, "LLF1", 4) != 0) die("a frame header without its mark: the input is out of step");
    if (read_u32(header + 4) != frame_bytes) die("a frame of another size than --width x --height x 4");
    read_exactly(frame, frame_bytes);
    int frame_crf = header[9];
    if (frame_crf != 0 && frame_crf != crf && frame_crf <= 51) {
      crf = frame_crf;
      param.rc.f_rf_constant = (float)crf;
      if (x264_encoder_reconfig(encoder, &param) < 0) die("x264 refused the new quality");
    }
    bgrx_to_i420(frame, width * 4, out_width, out_height, &picture);
    for (int i = 0; i < covers; i++) blank(&picture, out_width, out_height, &cover[i]);
    int64_t pts = read_u32(header + 12);
    /* x264 needs strictly increasing timestamps; two frames in one millisecond are 1 ms apart. */
    if (pts <= last_pts) pts = last_pts + 1;
    last_pts = pts;
    picture.i_pts = pts;
    picture.i_type = (header[8] & FLAG_KEYFRAME) ? X264_TYPE_IDR : X264_TYPE_AUTO;
    x264_nal_t *nals;
    int nal_count;
    int size = x264_encoder_encode(encoder, &nals, &nal_count, &picture, &encoded);
    if (size < 0) die("x264 failed to encode a frame");
    if (size == 0) continue;
    uint8_t unit[UNIT_HEADER_BYTES] = {'L', 'L', 'U', '1'};
    write_u32(unit + 4, (uint32_t)size);
    unit[8] = encoded.b_keyframe ? FLAG_KEYFRAME : 0;
    write_u32(unit + 12, (uint32_t)encoded.i_pts);
    write_all(unit, UNIT_HEADER_BYTES);
    /* The NALs of one call lie back to back in one buffer. */
    write_all(nals[0].p_payload, (size_t)size);
  }
  x264_encoder_close(encoder);
  x264_picture_clean(&picture);
  free(frame);
  return 0;
}
