/*
 * lifeline-x264: the agent's H.264 encoder on Linux, driven frame by frame.
 *
 * The agent writes raw BGRX frames of one size to standard input, each after a 16-byte header, and
 * reads access units (Annex B, SPS and PPS in every keyframe) from standard output, each after a
 * 16-byte header. A frame's header can ask for an IDR and change the quality (CRF) from that frame on,
 * without restarting the encoder. The layout is mirrored in agent/media/x264-stream.ts.
 *
 * A frame need not be whole: the encoder keeps the last picture, so a frame can carry only a band of
 * rows that changed ("LLF2": its first row, and as many whole rows as its payload holds, possibly none).
 * Only that band is copied and converted to YUV; the rest of the picture stays as it was.
 *
 *   frame header (little-endian):  "LLF1" or "LLF2" | u32 payload bytes (LLF1: width * height * 4;
 *                                  LLF2: rows * width * 4) | u8 flags (bit 0: make this frame an IDR;
 *                                  bit 1: video mode, encode at half each side, see VIDEO MODE below)
 *                                  | u8 crf (0: unchanged) | u16 LLF1: 0, LLF2: first row of the band
 *                                  | u32 timestamp in ms (the agent's clock)
 *   "LLF3" is an LLF2 whose rows are not in the input but in shared memory, where they lie in a whole
 *   frame (at first row * width * 4): the capture's MIT-SHM segment, which the X server copied the
 *   screen into, named once by a segment record. The encoder copies the band out and at once answers
 *   with an ack ("LLA1"), after which the agent may let the X server write the segment again: a 1080p
 *   picture of video crosses neither the agent's memory nor the pipe.
 *   segment record (little-endian): "LLS1" | u32 0 (no payload) | u32 the agent's pid | u32 the
 *                                  segment's file descriptor in the agent (opened here through
 *                                  /proc/<pid>/fd; width * height * 4 bytes); no output
 *   rate record (little-endian):   "LLR1" | u32 0 (no payload) | u32 average picture in bytes
 *                                  | u32 largest picture in bytes; from the next frame on, no output:
 *                                  x264's VBV at (average * --fps) a second with a buffer of the
 *                                  largest picture, so no picture is larger (0, 0: back to the start's)
 *   unit header (little-endian):   "LLU1" | u32 payload bytes | u8 flags (bit 0: IDR) | 3 bytes 0
 *                                  | u32 timestamp in ms of the frame it encodes
 *   ack (little-endian):           "LLA1" | u32 0 | u32 0 | u32 timestamp of the LLF3 frame whose
 *                                  rows were copied out of shared memory (before its unit)
 *
 * x264 changes its VBV only when it was on from the start: `--max-kbit` and `--buffer-kbit` turn it
 * on (the agent starts with a cap no picture reaches, and lowers it to a thin link's budget by
 * "LLR1"); without them a rate record is refused. With `--constant-qp on` the encoder runs at constant
 * QP until a picture would break a budget a rate record brought, and is then reopened under capped
 * CRF (see open_encoder).
 *
 * x264's settings are its `ultrafast` preset with `zerolatency`, constrained baseline, changed for
 * screen content (see SCREEN_PARAMS; `--screen off` leaves them out); `--preset`, `--tune` and
 * `--param name=value` (x264's own option names, as `x264 --fullhelp` lists them; `profile=main` or
 * `high` allows CABAC or 8x8 transforms) override them, for bench/encoder/encode.ts to compare.
 *
 * Built by `npm run build` (build/agent/x264-encoder.ts), statically against Debian's libx264.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <x264.h>

#define FRAME_HEADER_BYTES 16
#define UNIT_HEADER_BYTES 16
#define FLAG_KEYFRAME 1
#define FLAG_HALF 2
#define MAX_COVERS 64
#define MAX_PARAMS 64
#define MAX_SIDE 16384
/* Standard input's pipe above 1280x720, bytes. */
#define PIPE_BYTES (1 << 20)
/* A band at least this tall is converted on two threads (where the encoder has two): a thread's start
   (tens of microseconds) is small against half of it. */
#define SPLIT_MIN_ROWS 256
/*
 * The constant QP taken for a CRF, so that both cost the same where AQ mattered most: on the recorded
 * video CRF 23 made 12449 B a picture at 33.70 dB PSNR, QP 25 12196 B at 33.68 dB (typing: 85 B at
 * 42.7 dB on the changed rows against 81 B at 43.5 dB).
 */
#define QP_OVER_CRF 2
/*
 * A picture that changed in at most SMALL_BAND_MB_ROWS rows of macroblocks (a line being typed) is
 * coded with trellis quantisation: under CRF 4% fewer bytes and sharper (44.2 against 42.7 dB on the
 * changed rows of the recorded typing); at constant QP also SMALL_BAND_QP_OFFSET coarser, as sharp as
 * without both (43.6 against 43.5 dB) for 9% fewer bytes (75 against 81 a picture). Trellis on a whole changing picture would cost 60% more time (the
 * recorded video: 12 -> 20 ms a picture), so it is switched on only for these (x264_encoder_reconfig,
 * when it changes).
 */
#define SMALL_BAND_MB_ROWS 3
#define SMALL_BAND_QP_OFFSET 3
/* 1 Gbit/s: more than any screen needs, and far from int overflow in x264's arithmetic. */
#define MAX_KBIT 1000000

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
 * Converts rows `top` to `bottom` (exclusive) only, both even; `width` is even; `stride` is the input
 * row in bytes.
 */
static void bgrx_to_i420(const uint8_t *in, int stride, int width, int top, int bottom, x264_picture_t *pic) {
  uint8_t *py = pic->img.plane[0], *pu = pic->img.plane[1], *pv = pic->img.plane[2];
  int sy = pic->img.i_stride[0], su = pic->img.i_stride[1], sv = pic->img.i_stride[2];
  for (int y = top; y < bottom; y += 2) {
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

/*
 * VIDEO MODE. While the agent says the screen is in full motion (flag bit 1) the picture is encoded at
 * half its width and height: x264's time goes with the pixels encoded, so a 1080p picture costs about
 * what a 540p one does, and the viewer scales it back up. A change of mode reopens the encoder at the
 * other size and makes that frame an IDR of the whole kept picture (leaving video mode: sharp again).
 *
 * bgrx_to_i420 at half size: each output pixel the mean of 2x2 input pixels (a box filter, read while
 * converting), chroma the mean of 4x4. `top` and `bottom` are output rows, even; `width` the output
 * width, even; the input has at least 2 * bottom rows of 2 * width pixels.
 */
static void bgrx_to_i420_half(const uint8_t *in, int stride, int width, int top, int bottom, x264_picture_t *pic) {
  uint8_t *py = pic->img.plane[0], *pu = pic->img.plane[1], *pv = pic->img.plane[2];
  int sy = pic->img.i_stride[0], su = pic->img.i_stride[1], sv = pic->img.i_stride[2];
  for (int y = top; y < bottom; y += 2) {
    const uint8_t *rows[4];
    rows[0] = in + (size_t)(2 * y) * stride;
    for (int i = 1; i < 4; i++) rows[i] = rows[i - 1] + stride;
    uint8_t *out[2] = {py + (size_t)y * sy, py + (size_t)(y + 1) * sy};
    uint8_t *u = pu + (size_t)(y / 2) * su, *v = pv + (size_t)(y / 2) * sv;
    for (int x = 0; x < width; x += 2) {
      int rt = 0, gt = 0, bt = 0;
      for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
          const uint8_t *a = rows[2 * dy] + (size_t)(2 * (x + dx)) * 4, *b = rows[2 * dy + 1] + (size_t)(2 * (x + dx)) * 4;
          int r = a[2] + a[6] + b[2] + b[6], g = a[1] + a[5] + b[1] + b[5], bl = a[0] + a[4] + b[0] + b[4];
          /* The sums of 4 pixels: the luma formula's >> 8 becomes >> 10. */
          out[dy][x + dx] = (uint8_t)(((66 * r + 129 * g + 25 * bl + 512) >> 10) + 16);
          rt += r;
          gt += g;
          bt += bl;
        }
      u[x / 2] = (uint8_t)(((-38 * rt - 74 * gt + 112 * bt + 2048) >> 12) + 128);
      v[x / 2] = (uint8_t)(((112 * rt - 94 * gt - 18 * bt + 2048) >> 12) + 128);
    }
  }
}

/* Rows `top` to `bottom` of a frame for bgrx_to_i420 (or bgrx_to_i420_half: output rows), on another thread. */
struct conversion {
  const uint8_t *in;
  int stride, width, top, bottom;
  x264_picture_t *pic;
  int half;
};

static void convert_rows(const struct conversion *c) {
  if (c->half) bgrx_to_i420_half(c->in, c->stride, c->width, c->top, c->bottom, c->pic);
  else bgrx_to_i420(c->in, c->stride, c->width, c->top, c->bottom, c->pic);
}

static void *convert_part(void *arg) {
  convert_rows(arg);
  return NULL;
}

/*
 * bgrx_to_i420 on two threads when `split` and the band is tall (a 1080p frame took 5 ms on one):
 * the upper half on a new thread, the lower here. A thread that cannot start leaves it all here.
 */
static void convert(const uint8_t *in, int stride, int width, int top, int bottom, x264_picture_t *pic, int split,
                    int half) {
  int middle = ((top + bottom) / 2) & ~1;
  struct conversion upper = {in, stride, width, top, middle, pic, half};
  struct conversion lower = {in, stride, width, middle, bottom, pic, half};
  struct conversion all = {in, stride, width, top, bottom, pic, half};
  pthread_t thread;
  /* At half size a band reads twice its output rows. */
  int rows = (bottom - top) * (half ? 2 : 1);
  if (!split || rows < SPLIT_MIN_ROWS || pthread_create(&thread, NULL, convert_part, &upper) != 0) {
    convert_rows(&all);
    return;
  }
  convert_rows(&lower);
  pthread_join(thread, NULL);
}

/* A cover in the half-size picture: every output pixel that any covered input pixel feeds. */
static struct cover halve_cover(const struct cover *c) {
  int x0 = c->x < 0 ? -((1 - c->x) / 2) : c->x / 2, y0 = c->y < 0 ? -((1 - c->y) / 2) : c->y / 2;
  int x1 = (c->x + c->width + 1) / 2, y1 = (c->y + c->height + 1) / 2;
  struct cover half = {x0, y0, x1 - x0, y1 - y0};
  return half;
}

/*
 * Paints a rectangle of the picture black (other windows lying on a shared one), within rows `top` to
 * `bottom` (the rows just converted; both even).
 */
static void blank(x264_picture_t *pic, int width, int top, int bottom, const struct cover *c) {
  int x0 = c->x < 0 ? 0 : c->x & ~1, y0 = c->y < 0 ? 0 : c->y & ~1;
  int x1 = c->x + c->width, y1 = c->y + c->height;
  if (x1 > width) x1 = width;
  x1 = (x1 + 1) & ~1;
  y1 = (y1 + 1) & ~1;
  if (x1 > width) x1 = width;
  if (y0 < top) y0 = top;
  if (y1 > bottom) y1 = bottom;
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
  die("usage: lifeline-x264 --width W --height H [--fps N] [--keyint N] [--crf N] [--preset P] [--tune T] "
      "[--screen on|off] [--constant-qp on|off] [--max-kbit N --buffer-kbit N] [--param name=value]... [--cover x,y,w,h]...");
}

/*
 * What differs from ultrafast for screen content, measured on recorded typing, scrolling and video
 * (bench/encoder/encode.ts, README "The Linux screen encoder"). Applied before `--param`.
 */
static const char *const SCREEN_PARAMS[][2] = {
    /* A scroll of a text line or more (13 px a line) is found as motion: ultrafast's diamond search
       does not find it and codes the text again (6x the bytes), UMH does; over 64 px rather than 32
       a slower capture's larger scrolls cost 30% less, for no measurable time. */
    {"me", "umh"},
    {"merange", "64"},
    /* 4x4 intra blocks and 8x8 and 4x4 inter partitions fit glyphs better than whole 16x16
       macroblocks: a typed character 13% smaller with 4x4 inter partitions than without. */
    {"partitions", "p8x8,p4x4,i4x4"},
    /* Variance AQ (every preset's but ultrafast's): coarser on busy text, finer on flat areas;
       typing and video about 30% smaller for about 0.3 ms a frame. */
    {"aq-mode", "1"},
    {NULL, NULL},
};

/*
 * Threads by picture size, chosen when the encoder opens (x264_encoder_reconfig cannot change them).
 * Up to 1280x720, one thread and one slice a picture: zerolatency's sliced threads cut each picture
 * into slices, which on a screen that changes a few rows costs bytes (typing 11%, scrolling 7% more)
 * and time (5-20% more CPU a frame, thread hand-offs). Above it, two sliced threads (two slices a
 * picture, encoded at once, no frame of delay): a 1080p picture of video takes 25-30 ms of one core,
 * which a full-screen change waited for whole; two slices cost 2% more bytes on video, 6% on scrolling
 * and 11% on typing at 1080p (bench/encoder/encode.ts --size 1920x1080, README "Above 1280x720").
 */
#define ONE_SLICE_MAX_PIXELS (1280 * 720)
#define LARGE_PICTURE_THREADS "2"

static void apply_param(x264_param_t *param, const char *name, const char *value) {
  int result = x264_param_parse(param, name, value);
  if (result == X264_PARAM_BAD_NAME) {
    fprintf(stderr, "lifeline-x264: x264 has no option %s\n", name);
    exit(2);
  }
  if (result == X264_PARAM_BAD_VALUE) {
    fprintf(stderr, "lifeline-x264: x264 refused %s=%s\n", name, value);
    exit(2);
  }
}

/* kbit from bytes, rounded up, within x264's limits: at least 1 kbit, at most MAX_KBIT. */
static int kbit_of(uint64_t bytes) {
  uint64_t kbit = (bytes * 8 + 999) / 1000;
  return kbit < 1 ? 1 : kbit > MAX_KBIT ? MAX_KBIT : (int)kbit;
}

/*
 * The VBV for an average picture of `average` bytes at `fps` pictures a second, none larger than
 * `largest` bytes (both 0: the start's `max_kbit` and `buffer_kbit`), set in `param`.
 */
static void set_rate(x264_param_t *param, uint32_t average, uint32_t largest, int fps, int max_kbit,
                     int buffer_kbit) {
  if (average == 0 && largest == 0) {
    param->rc.i_vbv_max_bitrate = max_kbit;
    param->rc.i_vbv_buffer_size = buffer_kbit;
  } else {
    if (largest < average) largest = average;
    param->rc.i_vbv_max_bitrate = kbit_of((uint64_t)average * (uint64_t)fps);
    /* x264 measures the buffer in whole kbit: rounding down keeps every picture under `largest`. */
    uint64_t buffer = (uint64_t)largest * 8 / 1000;
    param->rc.i_vbv_buffer_size = buffer < 1 ? 1 : buffer > MAX_KBIT ? MAX_KBIT : (int)buffer;
  }
}

/*
 * The pictures coded in the last RECENT_MS of their timestamps, for telling whether constant QP keeps
 * to a budget: a budget the pictures keep to (one a loaded machine's console set, slow to take a
 * typed line's few bytes) should not cost an IDR and a reopened encoder.
 */
#define RECENT_MS 1000
#define RECENT_MAX 256

struct recent {
  int64_t pts[RECENT_MAX];
  uint32_t bytes[RECENT_MAX];
  int start, count;
};

static void recent_add(struct recent *r, int64_t pts, uint32_t bytes) {
  if (r->count == RECENT_MAX) {
    r->start = (r->start + 1) % RECENT_MAX;
    r->count--;
  }
  int at = (r->start + r->count) % RECENT_MAX;
  r->pts[at] = pts;
  r->bytes[at] = bytes;
  r->count++;
}

/* Bytes of the pictures coded within RECENT_MS before `now` (older ones are forgotten). */
static uint64_t recent_bytes(struct recent *r, int64_t now) {
  while (r->count > 0 && r->pts[r->start] <= now - RECENT_MS) {
    r->start = (r->start + 1) % RECENT_MAX;
    r->count--;
  }
  uint64_t sum = 0;
  for (int i = 0; i < r->count; i++) sum += r->bytes[(r->start + i) % RECENT_MAX];
  return sum;
}

/*
 * How many times a budget's largest picture one picture at constant QP may be before the encoder is
 * reopened for it: 400 ms of the link where the largest is 50 ms of it (LinkBudget's `speed`).
 * Reopening costs an IDR of the whole screen, which under a budget set while scrolling (625 B a
 * picture, none larger; scrolled lines of 2.5 KB came) was 3449 B, blurred all over, and once the
 * budget was lifted a P-picture of 78 KB sharpening it again: a picture a few times the cap costs
 * less as it is.
 */
#define HELD_LARGEST_FACTOR 8

/*
 * Whether a picture of `bytes` coded at `now` breaks a budget of `average` bytes a picture at `fps`
 * pictures a second, none over `largest`: the last second's bytes with it over (x264's VBV would
 * hold them to that rate), or the picture over HELD_LARGEST_FACTOR times `largest`.
 */
static int over_budget(struct recent *r, int64_t now, uint32_t bytes, uint32_t average, uint32_t largest,
                       int fps) {
  return (uint64_t)bytes > (uint64_t)largest * HELD_LARGEST_FACTOR ||
         recent_bytes(r, now) + bytes > (uint64_t)average * (uint64_t)fps;
}

/*
 * Rate control. Capped CRF (the quality as asked, unless a picture would overflow the VBV) costs x264
 * a half-size copy of the whole picture and a cost estimate over it, and AQ's variance of every
 * macroblock, on every picture however little changed: a fifth of its time on a typed character.
 * Without a budget in force the cap is never reached, so with `--constant-qp on` the encoder runs at
 * constant QP (QP_OVER_CRF above the CRF, AQ off): typed text as small and sharper, a third less
 * CPU (README "Typing: 4×4 partitions and trellis on a typed line").
 *
 * x264 can change neither its rate control method nor, at constant QP, a VBV in place. A budget is
 * therefore held at constant QP while the pictures keep to it (over_budget), and the first
 * picture that would break it is coded as the first picture (an IDR) of an encoder reopened under
 * capped CRF; once the budget is lifted it goes back to constant QP at the next IDR asked for.
 * Reopening as soon as a budget came is what cut the live benchmark's video: a loaded machine's
 * console, slow to take a typed or scrolled line, set a budget at the least (150 kbit/s, 625 B a
 * picture); the reopening's IDR blurred the whole screen, the P-picture sharpening it again after
 * the lift (78 KB) queued up, and the budget this set in turn held the video that followed.
 */
/* The constant QP for a CRF, at most x264's 51. */
static int qp_of(int crf) { return crf + QP_OVER_CRF > 51 ? 51 : crf + QP_OVER_CRF; }

static x264_t *open_encoder(const x264_param_t *param, int constant_qp) {
  x264_param_t open = *param;
  if (constant_qp) {
    open.rc.i_rc_method = X264_RC_CQP;
    open.rc.i_qp_constant = qp_of((int)open.rc.f_rf_constant);
    /* At constant QP x264 bounds the QP a picture may be forced to by its I-, P- and B-picture QPs;
       there are no B-pictures, so their factor only lifts the upper bound to 51 (a CRF up to 49). */
    open.rc.f_pb_factor = 32.0f;
    open.rc.i_vbv_max_bitrate = 0;
    open.rc.i_vbv_buffer_size = 0;
  }
  x264_t *encoder = x264_encoder_open(&open);
  if (!encoder) die("x264 could not open an encoder with these settings");
  return encoder;
}

int main(int argc, char **argv) {
  int width = 0, height = 0, fps = 30, keyint = 1800, crf = 23, covers = 0, max_kbit = 0, buffer_kbit = 0;
  const char *tune = "zerolatency", *preset = "ultrafast";
  int screen = 1, qp_option = 0;
  struct cover cover[MAX_COVERS];
  char *params[MAX_PARAMS];
  int param_count = 0;
  for (int i = 1; i < argc; i++) {
    const char *name = argv[i];
    if (i + 1 >= argc) usage();
    const char *value = argv[++i];
    if (!strcmp(name, "--width")) width = parse_int(value, 2, MAX_SIDE, "--width");
    else if (!strcmp(name, "--height")) height = parse_int(value, 2, MAX_SIDE, "--height");
    else if (!strcmp(name, "--fps")) fps = parse_int(value, 1, 240, "--fps");
    else if (!strcmp(name, "--keyint")) keyint = parse_int(value, 1, 100000, "--keyint");
    else if (!strcmp(name, "--crf")) crf = parse_int(value, 1, 51, "--crf");
    else if (!strcmp(name, "--max-kbit")) max_kbit = parse_int(value, 1, MAX_KBIT, "--max-kbit");
    else if (!strcmp(name, "--buffer-kbit")) buffer_kbit = parse_int(value, 1, MAX_KBIT, "--buffer-kbit");
    else if (!strcmp(name, "--tune")) tune = value;
    else if (!strcmp(name, "--preset")) preset = value;
    else if (!strcmp(name, "--constant-qp")) {
      if (strcmp(value, "on") && strcmp(value, "off")) die("--constant-qp takes on or off");
      qp_option = !strcmp(value, "on");
    }
    else if (!strcmp(name, "--screen")) {
      if (strcmp(value, "on") && strcmp(value, "off")) die("--screen takes on or off");
      screen = !strcmp(value, "on");
    }
    else if (!strcmp(name, "--param")) {
      if (param_count == MAX_PARAMS) die("too many --param options");
      if (!strchr(value, '=')) die("--param takes name=value");
      params[param_count++] = strdup(value);
    }
    else if (!strcmp(name, "--cover")) {
      if (covers == MAX_COVERS) die("too many --cover rectangles");
      struct cover *c = &cover[covers++];
      if (sscanf(value, "%d,%d,%d,%d", &c->x, &c->y, &c->width, &c->height) != 4) usage();
    } else usage();
  }
  if (width == 0 || height == 0) usage();
  if ((max_kbit == 0) != (buffer_kbit == 0)) die("--max-kbit and --buffer-kbit go together");
  /* 4:2:0 needs even sizes: an odd last column or row is left out rather than the picture resampled. */
  int out_width = width & ~1, out_height = height & ~1;

  x264_param_t param;
  if (x264_param_default_preset(&param, preset, tune) < 0) die("unknown --preset or --tune");
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
  /* Capped CRF: the quality as asked, unless a picture would overflow the VBV. */
  param.rc.i_vbv_max_bitrate = max_kbit;
  param.rc.i_vbv_buffer_size = buffer_kbit;
  param.i_log_level = X264_LOG_ERROR;
  for (size_t i = 0; screen && SCREEN_PARAMS[i][0]; i++) apply_param(&param, SCREEN_PARAMS[i][0], SCREEN_PARAMS[i][1]);
  int large = out_width * out_height > ONE_SLICE_MAX_PIXELS;
  if (screen) {
    apply_param(&param, "threads", large ? LARGE_PICTURE_THREADS : "1");
    /* Sliced, never frame threads: those hold each picture back a frame and read mb_info later. */
    if (large) apply_param(&param, "sliced-threads", "1");
  }
  const char *profile = "baseline";
  for (int i = 0; i < param_count; i++) {
    char *equals = strchr(params[i], '=');
    *equals = '\0';
    if (!strcmp(params[i], "profile")) profile = equals + 1;
    else apply_param(&param, params[i], equals + 1);
  }
  if (x264_param_apply_profile(&param, profile) < 0) die("x264 refused the profile");
  /* Macroblocks outside the band are told unchanged (mb_info), so x264 skips them without analysis. */
  param.analyse.b_mb_info = 1;
  /* Constant QP while no budget is in force, when asked (see open_encoder). */
  const int qp_without_budget = qp_option && param.rc.i_rc_method == X264_RC_CRF;
  const int start_crf = crf;
  int constant_qp = qp_without_budget, back_to_qp = 0;
  x264_t *encoder = open_encoder(&param, constant_qp);
  /* A budget in force while the encoder still codes at constant QP (`held`), of `held_average` bytes
     a picture at --fps, none over `held_largest`: the encoder is reopened under capped CRF only once
     the pictures would break it (see over_budget). */
  int held = 0;
  uint32_t held_average = 0, held_largest = 0;
  static struct recent recent;
  /* Video mode's picture (see VIDEO MODE), and the threads the whole picture is encoded with. */
  const int half_width = (out_width / 2) & ~1, half_height = (out_height / 2) & ~1;
  const int full_threads = param.i_threads, full_sliced = param.b_sliced_threads;
  int half = 0;

  /* A pipe holds 64 KiB: a 1080p frame (8 MB) would cross it in 128 turns of the agent's event loop,
     each a wake-up on a busy machine. 1 MiB (what Linux allows unprivileged) takes 8, and is still
     well under a frame, so the agent's next read still waits until this frame is mostly read. Not at
     1280x720 and below, where a band of typing would then fit whole and the agent read again before
     the encoder was done. A pipe that stays small only costs time. */
  if (large) fcntl(STDIN_FILENO, F_SETPIPE_SZ, PIPE_BYTES);
  x264_picture_t picture, encoded;
  if (x264_picture_alloc(&picture, X264_CSP_I420, out_width, out_height) < 0) die("out of memory");
  size_t frame_bytes = (size_t)width * height * 4;
  uint8_t *frame = malloc(frame_bytes);
  if (!frame) die("out of memory");
  /* Black until the first frame, which is whole or only partly new: either way a defined picture. */
  memset(frame, 0, frame_bytes);
  size_t row_bytes = (size_t)width * 4;
  /* Allocated for the whole picture, which video mode's is smaller than. */
  int mb_width = (out_width + 15) / 16, mb_height = (out_height + 15) / 16;
  uint8_t *mb_info = malloc((size_t)mb_width * mb_height);
  if (!mb_info) die("out of memory");
  /* x264 reads it during the call that encodes the picture (no lookahead, no frame threads). */
  picture.prop.mb_info = mb_info;
  picture.prop.mb_info_free = NULL;
  /* The capture's MIT-SHM segment (SHARED MEMORY), once a segment record named it. */
  const uint8_t *segment = NULL;
  uint8_t header[FRAME_HEADER_BYTES];
  int64_t last_pts = -1;
  for (;;) {
    if (!read_exactly(header, FRAME_HEADER_BYTES)) break;
    size_t payload = read_u32(header + 4);
    if (memcmp(header, "LLR1", 4) == 0) {
      if (payload != 0) die("a rate record with a payload: the input is out of step");
      if (max_kbit == 0) die("a rate record without --max-kbit: x264 can change its VBV only when it was on from the start");
      uint32_t average = read_u32(header + 8), largest = read_u32(header + 12);
      set_rate(&param, average, largest, fps, max_kbit, buffer_kbit);
      int budget = average != 0 || largest != 0;
      if (constant_qp) {
        held = budget;
        held_average = average;
        held_largest = largest > average ? largest : average;
      } else if (x264_encoder_reconfig(encoder, &param) < 0) die("x264 refused the new rate");
      back_to_qp = !budget && qp_without_budget && !constant_qp;
      continue;
    }
    if (memcmp(header, "LLS1", 4) == 0) {
      if (payload != 0) die("a segment record with a payload: the input is out of step");
      if (segment) munmap((void *)segment, frame_bytes);
      char path[64];
      snprintf(path, sizeof path, "/proc/%u/fd/%u", read_u32(header + 8), read_u32(header + 12));
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) die("could not open the agent's shared memory segment");
      struct stat st;
      /* A read past the file's end would be SIGBUS, not an error. */
      if (fstat(fd, &st) < 0 || (size_t)st.st_size < frame_bytes) die("the agent's shared memory segment is smaller than a frame");
      void *mapped = mmap(NULL, frame_bytes, PROT_READ, MAP_SHARED, fd, 0);
      close(fd);
      if (mapped == MAP_FAILED) die("could not map the agent's shared memory segment");
      segment = mapped;
      continue;
    }
    int first_row = header[10] | header[11] << 8, rows;
    int shared = memcmp(header, "LLF3", 4) == 0;
    if (memcmp(header, "LLF1", 4) == 0) {
      if (payload != frame_bytes) die("a frame of another size than --width x --height x 4");
      first_row = 0;
      rows = height;
    } else if (shared || memcmp(header, "LLF2", 4) == 0) {
      if (payload % row_bytes != 0) die("a band of rows that is not a whole number of rows");
      rows = (int)(payload / row_bytes);
      if (first_row + rows > height) die("a band of rows beyond the bottom of the frame");
    } else die("a frame header without its mark: the input is out of step");
    if (shared) {
      if (!segment) die("a band in shared memory before a segment record named the segment");
      size_t offset = (size_t)first_row * row_bytes;
      memcpy(frame + offset, segment + offset, payload);
      /* The segment is free for the next picture while this one is converted and encoded. */
      uint8_t ack[UNIT_HEADER_BYTES] = {'L', 'L', 'A', '1'};
      memcpy(ack + 12, header + 12, 4);
      write_all(ack, UNIT_HEADER_BYTES);
    } else if (payload > 0)
      read_exactly(frame + (size_t)first_row * row_bytes, payload);
    /* Video mode on or off: the encoder reopened at the other size, this frame a whole IDR. */
    int want_half = (header[8] & FLAG_HALF) && half_width >= 16 && half_height >= 16;
    int switched = want_half != half;
    if (switched) {
      half = want_half;
      x264_encoder_close(encoder);
      param.i_width = half ? half_width : out_width;
      param.i_height = half ? half_height : out_height;
      /* One slice a picture at the small size (see ONE_SLICE_MAX_PIXELS). */
      param.i_threads = half && half_width * half_height <= ONE_SLICE_MAX_PIXELS ? 1 : full_threads;
      param.b_sliced_threads = param.i_threads > 1 ? full_sliced : 0;
      if (constant_qp) param.rc.f_rf_constant = (float)start_crf;
      encoder = open_encoder(&param, constant_qp);
      param.rc.f_rf_constant = (float)crf;
      x264_picture_clean(&picture);
      if (x264_picture_alloc(&picture, X264_CSP_I420, param.i_width, param.i_height) < 0) die("out of memory");
      picture.prop.mb_info = mb_info;
      picture.prop.mb_info_free = NULL;
      mb_width = (param.i_width + 15) / 16;
      mb_height = (param.i_height + 15) / 16;
    }
    int frame_crf = header[9];
    if (frame_crf != 0 && frame_crf != crf && frame_crf <= 51) {
      crf = frame_crf;
      param.rc.f_rf_constant = (float)crf;
      if (!constant_qp && x264_encoder_reconfig(encoder, &param) < 0) die("x264 refused the new quality");
    }
    if (back_to_qp && (header[8] & FLAG_KEYFRAME)) {
      /* The IDR asked for is the new encoder's first picture: going back costs no extra keyframe. */
      x264_encoder_close(encoder);
      param.rc.f_rf_constant = (float)start_crf;
      encoder = open_encoder(&param, 1);
      param.rc.f_rf_constant = (float)crf;
      constant_qp = 1;
      back_to_qp = 0;
    }
    /* 4:2:0 takes rows in pairs (at half size, pairs of output rows: input rows in fours): the band
       is widened to whole pairs, read from the kept frame. Top and bottom are rows of the picture. */
    int scale = half ? 2 : 1, pic_width = param.i_width, pic_height = param.i_height;
    int top = first_row / (2 * scale) * 2, bottom = (first_row + rows + 2 * scale - 1) / (2 * scale) * 2;
    if (switched) top = 0, bottom = pic_height;
    if (bottom > pic_height) bottom = pic_height;
    if (top < bottom) {
      convert(frame, (int)row_bytes, pic_width, top, bottom, &picture, large && (half || param.i_threads > 1), half);
      for (int i = 0; i < covers; i++) {
        struct cover c = half ? halve_cover(&cover[i]) : cover[i];
        blank(&picture, pic_width, top, bottom, &c);
      }
    }
    /* A row of macroblocks wholly outside the rows converted is as it was in the last picture. */
    int changed_mb_rows = 0;
    for (int mb_y = 0; mb_y < mb_height; mb_y++) {
      int constant = mb_y * 16 + 16 <= top || mb_y * 16 >= bottom;
      memset(mb_info + (size_t)mb_y * mb_width, constant ? X264_MBINFO_CONSTANT : 0, (size_t)mb_width);
      changed_mb_rows += !constant;
    }
    int keyframe = (header[8] & FLAG_KEYFRAME) || switched;
    int small = screen && !keyframe && changed_mb_rows > 0 && changed_mb_rows <= SMALL_BAND_MB_ROWS;
    if (small != param.analyse.i_trellis) {
      param.analyse.i_trellis = small;
      if (x264_encoder_reconfig(encoder, &param) < 0) die("x264 refused to switch trellis quantisation");
    }
    int64_t pts = read_u32(header + 12);
    /* x264 needs strictly increasing timestamps; two frames in one millisecond are 1 ms apart. */
    if (pts <= last_pts) pts = last_pts + 1;
    last_pts = pts;
    picture.i_pts = pts;
    if (held && over_budget(&recent, pts, 0, held_average, held_largest, fps)) {
      /* The last second alone is over the budget: this picture is the capped encoder's first. */
      x264_encoder_close(encoder);
      encoder = open_encoder(&param, 0);
      constant_qp = held = 0;
      keyframe = 1;
    }
    picture.i_type = keyframe ? X264_TYPE_IDR : X264_TYPE_AUTO;
    /* At constant QP a quality other than the start's is forced on the picture (x264 cannot change
       its constant QP in place); an IDR keeps the usual I-picture offset (ipratio 1.4: 3 QP). A
       quality finer than the start's stops at that offset (the lower bound of a forced QP). */
    picture.i_qpplus1 = X264_QP_AUTO;
    if (constant_qp && (crf != start_crf || small)) {
      int qp = qp_of(crf) + (small ? SMALL_BAND_QP_OFFSET : 0);
      if (qp > 51) qp = 51;
      picture.i_qpplus1 = (keyframe && qp > 3 ? qp - 3 : qp) + 1;
    }
    x264_nal_t *nals;
    int nal_count;
    int size = x264_encoder_encode(encoder, &nals, &nal_count, &picture, &encoded);
    if (size < 0) die("x264 failed to encode a frame");
    if (held && size > 0 && over_budget(&recent, pts, (uint32_t)size, held_average, held_largest, fps)) {
      /* At constant QP this picture breaks the budget: it is coded again, as the first picture (an
         IDR) of an encoder under capped CRF, and what constant QP made is dropped. */
      x264_encoder_close(encoder);
      encoder = open_encoder(&param, 0);
      constant_qp = held = 0;
      picture.i_type = X264_TYPE_IDR;
      picture.i_qpplus1 = X264_QP_AUTO;
      size = x264_encoder_encode(encoder, &nals, &nal_count, &picture, &encoded);
      if (size < 0) die("x264 failed to encode a frame");
    }
    if (size == 0) continue;
    recent_add(&recent, encoded.i_pts, (uint32_t)size);
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
  if (segment) munmap((void *)segment, frame_bytes);
  free(frame);
  free(mb_info);
  for (int i = 0; i < param_count; i++) free(params[i]);
  return 0;
}
