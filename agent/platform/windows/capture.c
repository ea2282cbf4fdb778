/*
 * lifeline-desktop.exe capture X Y WIDTH HEIGHT FPS [cursor]
 *
 * Writes the rectangle of the virtual desktop to stdout only when its picture changed, at most FPS
 * times a second, the first picture at once. Each message is a 24-byte header of six little-endian
 * 32-bit words, then the rows it names (top-down BGRX, 4 bytes a pixel, WIDTH * 4 bytes a row):
 *
 *   "LLCF"  WIDTH  HEIGHT  FIRST_ROW  ROW_COUNT  FLAGS
 *
 * FLAGS bit 0 (CAPTURE_WHOLE): the whole picture, written first and on "keyframe". Otherwise the
 * rows FIRST_ROW .. FIRST_ROW + ROW_COUNT - 1 replace those of the last picture; the rest is as it was.
 *
 * With `cursor` the picture leaves the cursor out, and the cursor comes apart, in messages with the
 * same 24-byte header and their own first word, each time it changes:
 *
 *   "LLCS"  SERIAL  WIDTH  HEIGHT  HOT_X  HOT_Y   then WIDTH * HEIGHT straight RGBA pixels: its image
 *   "LLCP"  X  Y  0  0  0                          its position in the rectangle (signed: may lie outside)
 *
 * Lines on stdin: "keyframe" writes the current picture whole at once, changed or not; "fps N" sets
 * the most pictures a second. The helper exits when stdin closes.
 *
 * Where DXGI Desktop Duplication works (capture-dxgi.c: Windows 8 and later, one output, no DPI
 * scaling) the helper waits for Windows to report a change; elsewhere (Wine, which has no working
 * Desktop Duplication) it copies the rectangle from the screen with GDI each 1/FPS s and compares it
 * with the last picture, as x11vnc does. Either way a picture equal to the last one is not written,
 * and without `cursor` the cursor is drawn into it (as gdigrab's -draw_mouse does).
 */
#include "capture.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPTURE_MAGIC 0x46434c4cu /* "LLCF" as bytes */
#define CURSOR_SHAPE_MAGIC 0x53434c4cu /* "LLCS" */
#define CURSOR_POSITION_MAGIC 0x50434c4cu /* "LLCP" */
/* Largest cursor image sent, in pixels a side (the protocol's MAX_CURSOR_SIDE); a larger one is not. */
#define MAX_CURSOR_SIDE 96
#define CAPTURE_WHOLE 1u
#define CAPTURE_HEADER_WORDS 6
/* Largest side captured, in pixels (16K): what fits the header and a sane allocation. */
#define MAX_SIDE 16384
#define MAX_FPS 120
/*
 * The GDI poll slows down on a quiet desktop: after BUSY_MS without a change and without input (the
 * user's or the operator's, GetLastInputInfo), the screen is read every IDLE_POLL_MS instead of every
 * 1/FPS s. A change that follows input is still seen within 1/FPS s; one that comes on its own (a
 * clock, a notification) within IDLE_POLL_MS.
 */
#define BUSY_MS 2000
#define IDLE_POLL_MS 200

static volatile LONG keyframe_wanted;
static volatile LONG interval_ms;
static LONG max_fps;
/* Signalled on "keyframe" so a waiting capture wakes at once. */
static HANDLE wake;

/* Reads command lines from stdin; ends the process when stdin closes (the agent is gone). */
static DWORD WINAPI read_commands(LPVOID unused) {
  (void)unused;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  char line[256];
  size_t used = 0;
  DWORD read;
  while (ReadFile(in, line + used, (DWORD)(sizeof line - 1 - used), &read, NULL) && read > 0) {
    used += read;
    char *newline;
    while ((newline = memchr(line, '\n', used)) != NULL) {
      *newline = '\0';
      if (strncmp(line, "keyframe", 8) == 0) {
        InterlockedExchange(&keyframe_wanted, 1);
        SetEvent(wake);
      } else if (strncmp(line, "fps ", 4) == 0) {
        long fps = strtol(line + 4, NULL, 10);
        if (fps < 1) fps = 1;
        if (fps > max_fps) fps = max_fps;
        InterlockedExchange(&interval_ms, 1000 / fps);
      }
      used -= (size_t)(newline + 1 - line);
      memmove(line, newline + 1, used);
    }
    /* A line too long for the buffer is no command: dropped. */
    if (used == sizeof line - 1) used = 0;
  }
  ExitProcess(0);
  return 0;
}

/* Writes all of `bytes`; a broken pipe means the agent is gone, and so is the helper. */
static void write_all(HANDLE out, const void *bytes, size_t size) {
  const unsigned char *at = bytes;
  while (size > 0) {
    DWORD written;
    DWORD chunk = size > (1u << 30) ? (1u << 30) : (DWORD)size;
    if (!WriteFile(out, at, chunk, &written, NULL) || written == 0) ExitProcess(0);
    at += written;
    size -= written;
  }
}

static void write_rows(HANDLE out, const unsigned char *pixels, UINT32 width, UINT32 height, UINT32 first,
                       UINT32 count, UINT32 flags) {
  UINT32 header[CAPTURE_HEADER_WORDS] = {CAPTURE_MAGIC, width, height, first, count, flags};
  size_t row_bytes = (size_t)width * 4;
  write_all(out, header, sizeof header);
  write_all(out, pixels + first * row_bytes, count * row_bytes);
}

/* Draws the cursor where it is into the picture of `area` held by `dc`, as the user sees it. */
static void draw_cursor(HDC dc, const RECT *area) {
  CURSORINFO cursor;
  cursor.cbSize = sizeof cursor;
  if (!GetCursorInfo(&cursor) || !(cursor.flags & CURSOR_SHOWING) || !cursor.hCursor) return;
  ICONINFO icon;
  if (!GetIconInfo(cursor.hCursor, &icon)) return;
  DrawIconEx(dc, cursor.ptScreenPos.x - (LONG)icon.xHotspot - area->left,
             cursor.ptScreenPos.y - (LONG)icon.yHotspot - area->top, cursor.hCursor, 0, 0, 0, NULL, DI_NORMAL);
  if (icon.hbmMask) DeleteObject(icon.hbmMask);
  if (icon.hbmColor) DeleteObject(icon.hbmColor);
}

/* Milliseconds since the last keyboard or mouse input of the session, injected or not. */
static DWORD since_input(void) {
  LASTINPUTINFO input;
  input.cbSize = sizeof input;
  return GetLastInputInfo(&input) ? GetTickCount() - input.dwTime : 0;
}

/* The picture of a capture and the last one written, to compare it with. */
struct pictures {
  HANDLE out;
  UINT32 width, height;
  size_t row_bytes;
  unsigned char *picture, *last;
};

/*
 * Writes the picture whole, or the rows where it differs from the last one written (nothing when it
 * does not); TRUE when it wrote anything.
 */
static BOOL send_picture(const struct pictures *p, BOOL whole) {
  size_t row_bytes = p->row_bytes;
  UINT32 top = 0, bottom = p->height;
  if (!whole) {
    while (top < bottom && memcmp(p->picture + top * row_bytes, p->last + top * row_bytes, row_bytes) == 0) top++;
    while (bottom > top &&
           memcmp(p->picture + (bottom - 1) * row_bytes, p->last + (bottom - 1) * row_bytes, row_bytes) == 0)
      bottom--;
    if (bottom == top) return FALSE;
  }
  write_rows(p->out, p->picture, p->width, p->height, top, bottom - top, whole ? CAPTURE_WHOLE : 0);
  memcpy(p->last + top * row_bytes, p->picture + top * row_bytes, (bottom - top) * row_bytes);
  return TRUE;
}

/* The cursor as last reported: its handle, shape serial and position. */
struct cursor_state {
  HCURSOR shown;
  UINT32 serial;
  POINT at;
  BOOL reported;
};

/*
 * Straight RGBA of `cursor` at width x height: drawn once on black and once on white, a
 * pixel's alpha is how little it followed the background, and its colour what it showed on black
 * over that alpha (an inverting pixel comes out opaque). FALSE when it cannot be drawn.
 */
static BOOL cursor_rgba(HCURSOR cursor, int width, int height, unsigned char *rgba) {
  BITMAPINFO info = {0};
  info.bmiHeader.biSize = sizeof info.bmiHeader;
  info.bmiHeader.biWidth = width;
  info.bmiHeader.biHeight = -height;
  info.bmiHeader.biPlanes = 1;
  info.bmiHeader.biBitCount = 32;
  info.bmiHeader.biCompression = BI_RGB;
  unsigned char *on[2] = {NULL, NULL};
  HBITMAP bitmaps[2] = {NULL, NULL};
  HDC dc = CreateCompatibleDC(NULL);
  BOOL drawn = dc != NULL;
  for (int k = 0; k < 2 && drawn; k++) {
    bitmaps[k] = CreateDIBSection(dc, &info, DIB_RGB_COLORS, (void **)&on[k], NULL, 0);
    drawn = bitmaps[k] != NULL && SelectObject(dc, bitmaps[k]) != NULL &&
            PatBlt(dc, 0, 0, width, height, k == 0 ? BLACKNESS : WHITENESS) &&
            DrawIconEx(dc, 0, 0, cursor, width, height, 0, NULL, DI_NORMAL);
  }
  GdiFlush();
  for (int i = 0; drawn && i < width * height; i++) {
    const unsigned char *black = on[0] + i * 4, *white = on[1] + i * 4;
    int alpha = 0;
    for (int c = 0; c < 3; c++) {
      int a = 255 - (white[c] - black[c]);
      if (a > alpha) alpha = a > 255 ? 255 : a;
    }
    for (int c = 0; c < 3; c++) {
      int value = alpha == 0 ? 0 : black[c] * 255 / alpha;
      rgba[i * 4 + 2 - c] = (unsigned char)(value > 255 ? 255 : value);
    }
    rgba[i * 4 + 3] = (unsigned char)alpha;
  }
  if (dc) DeleteDC(dc);
  for (int k = 0; k < 2; k++)
    if (bitmaps[k]) DeleteObject(bitmaps[k]);
  return drawn;
}

/* The image and hotspot of `cursor` into `rgba`; FALSE when it cannot be drawn or is too large. */
static BOOL cursor_image(HCURSOR cursor, int *width, int *height, UINT32 *hot_x, UINT32 *hot_y,
                         unsigned char *rgba) {
  ICONINFO icon;
  BITMAP bitmap;
  if (!cursor || !GetIconInfo(cursor, &icon)) return FALSE;
  BOOL sized = GetObject(icon.hbmColor ? icon.hbmColor : icon.hbmMask, sizeof bitmap, &bitmap) != 0;
  int w = sized ? bitmap.bmWidth : 0;
  /* A monochrome cursor's mask holds its AND and XOR halves one above the other. */
  int h = sized ? (icon.hbmColor ? bitmap.bmHeight : bitmap.bmHeight / 2) : 0;
  if (icon.hbmMask) DeleteObject(icon.hbmMask);
  if (icon.hbmColor) DeleteObject(icon.hbmColor);
  if (w < 1 || h < 1 || w > MAX_CURSOR_SIDE || h > MAX_CURSOR_SIDE || !cursor_rgba(cursor, w, h, rgba)) return FALSE;
  *width = w;
  *height = h;
  *hot_x = icon.xHotspot;
  *hot_y = icon.yHotspot;
  return TRUE;
}

/* Writes the cursor's image when it changed and its position (relative to `area`) when it moved. */
static void report_cursor(HANDLE out, const RECT *area, struct cursor_state *state) {
  CURSORINFO cursor;
  cursor.cbSize = sizeof cursor;
  if (!GetCursorInfo(&cursor)) return;
  HCURSOR shown = (cursor.flags & CURSOR_SHOWING) ? cursor.hCursor : NULL;
  POINT at = {cursor.ptScreenPos.x - area->left, cursor.ptScreenPos.y - area->top};
  if (!state->reported || shown != state->shown) {
    static unsigned char rgba[MAX_CURSOR_SIDE * MAX_CURSOR_SIDE * 4];
    /* A hidden cursor is one transparent pixel. */
    int width = 1, height = 1;
    UINT32 hot_x = 0, hot_y = 0;
    memset(rgba, 0, 4);
    /* Wine cannot draw another process's cursor (ERROR_INVALID_CURSOR_HANDLE): the arrow stands in. */
    BOOL drawn = !shown || cursor_image(shown, &width, &height, &hot_x, &hot_y, rgba) ||
                 cursor_image(LoadCursorW(NULL, (LPCWSTR)IDC_ARROW), &width, &height, &hot_x, &hot_y, rgba);
    if (drawn) {
      UINT32 header[CAPTURE_HEADER_WORDS] = {CURSOR_SHAPE_MAGIC, ++state->serial, (UINT32)width, (UINT32)height,
                                             hot_x, hot_y};
      write_all(out, header, sizeof header);
      write_all(out, rgba, (size_t)width * (size_t)height * 4);
    }
    state->shown = shown;
  }
  if (!state->reported || at.x != state->at.x || at.y != state->at.y) {
    UINT32 header[CAPTURE_HEADER_WORDS] = {CURSOR_POSITION_MAGIC, (UINT32)at.x, (UINT32)at.y, 0, 0, 0};
    write_all(out, header, sizeof header);
    state->at = at;
  }
  state->reported = TRUE;
}

static BOOL parse_int(const char *text, long low, long high, long *value) {
  char *end;
  *value = strtol(text, &end, 10);
  return *text != '\0' && *end == '\0' && *value >= low && *value <= high;
}

int capture(int argc, char **argv) {
  long x, y, width, height, fps;
  BOOL cursor_apart = argc == 6 && strcmp(argv[5], "cursor") == 0;
  if (cursor_apart) argc--;
  if (argc != 5 || !parse_int(argv[0], -MAX_SIDE * 8, MAX_SIDE * 8, &x) ||
      !parse_int(argv[1], -MAX_SIDE * 8, MAX_SIDE * 8, &y) || !parse_int(argv[2], 1, MAX_SIDE, &width) ||
      !parse_int(argv[3], 1, MAX_SIDE, &height) || !parse_int(argv[4], 1, MAX_FPS, &fps)) {
    fprintf(stderr, "capture needs X Y WIDTH HEIGHT FPS [cursor]: whole numbers, sides 1..%d, FPS 1..%d\n", MAX_SIDE,
            MAX_FPS);
    return 2;
  }
  RECT area = {x, y, x + width, y + height};
  size_t frame_bytes = (size_t)width * 4 * (size_t)height;
  max_fps = fps;
  interval_ms = 1000 / fps;
  wake = CreateEventW(NULL, FALSE, FALSE, NULL);

  /* The picture is drawn into a DIB section: GDI copies the screen there, and draws the cursor. */
  HDC screen = GetDC(NULL);
  HDC dc = CreateCompatibleDC(screen);
  BITMAPINFO info = {0};
  info.bmiHeader.biSize = sizeof info.bmiHeader;
  info.bmiHeader.biWidth = width;
  info.bmiHeader.biHeight = -height; /* top-down */
  info.bmiHeader.biPlanes = 1;
  info.bmiHeader.biBitCount = 32;
  info.bmiHeader.biCompression = BI_RGB;
  struct pictures p = {GetStdHandle(STD_OUTPUT_HANDLE), (UINT32)width, (UINT32)height, (size_t)width * 4, NULL,
                       malloc(frame_bytes)};
  HBITMAP bitmap = CreateDIBSection(dc, &info, DIB_RGB_COLORS, (void **)&p.picture, NULL, 0);
  if (!screen || !dc || !bitmap || !p.picture || !p.last || !wake) {
    fprintf(stderr, "could not set up the screen capture (error %lu)\n", GetLastError());
    return 1;
  }
  SelectObject(dc, bitmap);

  struct dxgi_capture *dxgi = dxgi_open(&area);
  /* What Desktop Duplication copied, without the cursor (drawn anew on each picture). */
  unsigned char *duplicated = dxgi ? calloc(1, frame_bytes) : NULL;
  if (dxgi && !duplicated) {
    dxgi_close(dxgi);
    dxgi = NULL;
  }
  fprintf(stderr, "capture: %s\n", dxgi ? "DXGI Desktop Duplication" : "GDI, compared with the last picture");
  CreateThread(NULL, 0, read_commands, NULL, 0, NULL);

  BOOL first = TRUE;
  ULONGLONG changed_at = 0, read_at = 0;
  struct cursor_state cursor = {0};
  for (;;) {
    ULONGLONG started = GetTickCount64();
    BOOL whole = InterlockedExchange(&keyframe_wanted, 0) || first;
    BOOL read = TRUE;
    if (dxgi) {
      /* The first acquire brings the whole desktop; a keyframe takes the picture as it stands. */
      int got = dxgi_next(dxgi, first ? 1000 : whole ? 0 : (DWORD)interval_ms, whole, duplicated);
      if (got < 0) {
        fprintf(stderr, "capture: Desktop Duplication stopped; reading the screen with GDI from now on\n");
        dxgi_close(dxgi);
        dxgi = NULL;
        continue;
      }
      read = got > 0 || whole;
      if (read) {
        GdiFlush();
        memcpy(p.picture, duplicated, frame_bytes);
      }
    } else if (whole || started - read_at >= IDLE_POLL_MS ||
               started - changed_at < BUSY_MS || since_input() < BUSY_MS) {
      /* CAPTUREBLT includes layered windows (the guidance overlay, tooltips) as the user sees them. */
      BitBlt(dc, 0, 0, width, height, screen, x, y, SRCCOPY | CAPTUREBLT);
      read_at = started;
    } else {
      read = FALSE; /* A quiet desktop, read a moment ago. */
    }
    if (cursor_apart) report_cursor(p.out, &area, &cursor);
    if (read) {
      if (!cursor_apart) draw_cursor(dc, &area);
      GdiFlush();
      if (send_picture(&p, whole)) changed_at = GetTickCount64();
      first = FALSE;
    }
    /* At most FPS pictures a second; a "keyframe" line cuts the wait short. DXGI waited already. */
    ULONGLONG spent = GetTickCount64() - started;
    LONG interval = interval_ms;
    if (spent < (ULONGLONG)interval && !(dxgi && !read)) WaitForSingleObject(wake, (DWORD)(interval - spent));
  }
}
