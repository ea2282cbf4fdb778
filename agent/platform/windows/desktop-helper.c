/*
 * The Windows agent's desktop helper (lifeline-desktop.exe): the Win32 calls the Node agent needs
 * for the clipboard, the monitors and one shared window, without a native add-on. The agent unpacks
 * it into its work directory and runs it (agent/platform/windows-desktop.ts).
 *
 *   lifeline-desktop.exe monitors           one JSON line: {"monitors":[{name,primary,x,y,width,height}]}
 *   lifeline-desktop.exe windows            one JSON line: {"windows":[{id,title,x,y,width,height}]}
 *   lifeline-desktop.exe watch-window HWND  a JSON line now and after every change of the window:
 *                                           {"area":{x,y,width,height},"hidden":bool,"covered":[...]},
 *                                           then {"gone":true} once it is closed; ends when stdin closes
 *   lifeline-desktop.exe clipboard-get      the clipboard's text as UTF-8 (CRLF as LF), nothing if none
 *   lifeline-desktop.exe clipboard-set      puts stdin (UTF-8, LF as CRLF) on the clipboard as text
 *   lifeline-desktop.exe overlay            guidance marks over the desktop: each line of stdin is what
 *                                           to show, `<rgb> <count> <x> <y> <w> <h>…` per colour (an
 *                                           empty line shows nothing); prints `shown` once it is painted;
 *                                           ends when stdin closes
 *   lifeline-desktop.exe capture X Y W H FPS [cursor]
 *                                           the rectangle's picture (raw BGRX) on stdout each time it
 *                                           changed, at most FPS a second, the cursor apart with
 *                                           `cursor`; "keyframe" and "fps N" on stdin; ends when stdin
 *                                           closes (see capture.c)
 *
 * Coordinates are those of the virtual desktop, as gdigrab's -offset_x/-offset_y take them.
 * Built with Debian's gcc-mingw-w64-x86-64 by build/agent/desktop-helper.ts.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <dwmapi.h>
#include "capture.h"
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often a shared window is looked at, in ms. */
#define WATCH_INTERVAL_MS 100
/* Longest title reported, in UTF-16 units (the protocol's limit is 200 characters). */
#define MAX_TITLE 200
/* Most windows listed, and most covering rectangles reported for the shared one. */
#define MAX_WINDOWS 512
/* Most clipboard text taken from stdin, in bytes (the protocol caps what is shared far below). */
#define MAX_CLIPBOARD_BYTES (4 * 1024 * 1024)

/* Writes a UTF-16 string as a JSON string in UTF-8. */
static void put_json_string(const wchar_t *text) {
  putchar('"');
  for (const wchar_t *c = text; *c; c++) {
    if (*c == L'"' || *c == L'\\') {
      putchar('\\');
      putchar((char)*c);
    } else if (*c < 0x20) {
      printf("\\u%04x", (unsigned)*c);
    } else {
      char utf8[8];
      /* A surrogate pair is converted whole. */
      int units = (*c >= 0xd800 && *c <= 0xdbff && c[1] >= 0xdc00 && c[1] <= 0xdfff) ? 2 : 1;
      int bytes = WideCharToMultiByte(CP_UTF8, 0, c, units, utf8, sizeof utf8, NULL, NULL);
      fwrite(utf8, 1, bytes > 0 ? (size_t)bytes : 0, stdout);
      c += units - 1;
    }
  }
  putchar('"');
}

static void put_rect(const RECT *r) {
  printf("\"x\":%ld,\"y\":%ld,\"width\":%ld,\"height\":%ld", r->left, r->top, r->right - r->left,
         r->bottom - r->top);
}

static RECT virtual_desktop(void) {
  RECT desktop;
  desktop.left = GetSystemMetrics(SM_XVIRTUALSCREEN);
  desktop.top = GetSystemMetrics(SM_YVIRTUALSCREEN);
  desktop.right = desktop.left + GetSystemMetrics(SM_CXVIRTUALSCREEN);
  desktop.bottom = desktop.top + GetSystemMetrics(SM_CYVIRTUALSCREEN);
  return desktop;
}

/* ---- monitors ---- */

static BOOL CALLBACK put_monitor(HMONITOR monitor, HDC dc, LPRECT rect, LPARAM count) {
  (void)dc;
  (void)rect;
  MONITORINFOEXW info;
  info.cbSize = sizeof info;
  if (!GetMonitorInfoW(monitor, (MONITORINFO *)&info)) return TRUE;
  if ((*(int *)count)++ > 0) putchar(',');
  printf("{\"name\":");
  put_json_string(info.szDevice);
  printf(",\"primary\":%s,", (info.dwFlags & MONITORINFOF_PRIMARY) ? "true" : "false");
  put_rect(&info.rcMonitor);
  putchar('}');
  return TRUE;
}

static int list_monitors(void) {
  int count = 0;
  printf("{\"monitors\":[");
  EnumDisplayMonitors(NULL, NULL, put_monitor, (LPARAM)&count);
  printf("]}\n");
  return 0;
}

/* ---- windows ---- */

/* Whether a top-level window is one a user would pick: shown, not a tool window, not cloaked. */
static BOOL is_app_window(HWND window) {
  if (!IsWindowVisible(window)) return FALSE;
  if (GetWindowLongPtrW(window, GWL_EXSTYLE) & WS_EX_TOOLWINDOW) return FALSE;
  DWORD cloaked = 0;
  /* Windows 8+ keeps suspended store apps "visible" but cloaked; Wine may not implement it. */
  if (SUCCEEDED(DwmGetWindowAttribute(window, DWMWA_CLOAKED, &cloaked, sizeof cloaked)) && cloaked)
    return FALSE;
  return TRUE;
}

/*
 * A window's rectangle as it shows: DWM's frame bounds leave out the invisible resize borders
 * (about 7 pixels each side on Windows 10 and 11) that GetWindowRect counts, which would send what
 * lies beside the window. GetWindowRect where DWM does not answer.
 */
static BOOL window_rect(HWND window, RECT *rect) {
  if (SUCCEEDED(DwmGetWindowAttribute(window, DWMWA_EXTENDED_FRAME_BOUNDS, rect, sizeof *rect)) &&
      rect->right > rect->left && rect->bottom > rect->top)
    return TRUE;
  return GetWindowRect(window, rect);
}

static BOOL CALLBACK put_window(HWND window, LPARAM count) {
  wchar_t title[MAX_TITLE + 1];
  RECT rect, desktop = virtual_desktop(), visible;
  if (!is_app_window(window) || IsIconic(window)) return TRUE;
  if (GetWindowTextW(window, title, MAX_TITLE + 1) <= 0) return TRUE;
  if (!window_rect(window, &rect) || !IntersectRect(&visible, &rect, &desktop)) return TRUE;
  if ((*(int *)count)++ > 0) putchar(',');
  printf("{\"id\":%llu,\"title\":", (unsigned long long)(ULONG_PTR)window);
  put_json_string(title);
  putchar(',');
  put_rect(&rect);
  putchar('}');
  return (*(int *)count) < MAX_WINDOWS;
}

static int list_windows(void) {
  int count = 0;
  printf("{\"windows\":[");
  /* EnumWindows goes top of the stack first. */
  EnumWindows(put_window, (LPARAM)&count);
  printf("]}\n");
  return 0;
}

/* ---- one window ---- */

/* Writes the window's state into `line` (JSON); FALSE when it is gone. */
static BOOL window_state(HWND window, char *line, size_t size) {
  if (!IsWindow(window)) return FALSE;
  RECT rect, desktop = virtual_desktop(), area;
  BOOL hidden = !IsWindowVisible(window) || IsIconic(window) || !window_rect(window, &rect) ||
                !IntersectRect(&area, &rect, &desktop);
  if (hidden) SetRectEmpty(&area);
  int n = snprintf(line, size, "{\"area\":{\"x\":%ld,\"y\":%ld,\"width\":%ld,\"height\":%ld},\"hidden\":%s,\"covered\":[",
                   area.left, area.top, area.right - area.left, area.bottom - area.top,
                   hidden ? "true" : "false");
  int covered = 0;
  /* Every shown window above it in the Z order covers what it overlaps. */
  for (HWND above = hidden ? NULL : GetWindow(window, GW_HWNDPREV); above && covered < MAX_WINDOWS;
       above = GetWindow(above, GW_HWNDPREV)) {
    RECT other, overlap;
    if (!IsWindowVisible(above) || IsIconic(above) || !window_rect(above, &other)) continue;
    if (!IntersectRect(&overlap, &other, &area)) continue;
    if (n < 0 || (size_t)n >= size - 128) break;
    n += snprintf(line + n, size - n, "%s{\"x\":%ld,\"y\":%ld,\"width\":%ld,\"height\":%ld}",
                  covered++ ? "," : "", overlap.left - area.left, overlap.top - area.top,
                  overlap.right - overlap.left, overlap.bottom - overlap.top);
  }
  snprintf(line + n, size - n, "]}");
  return TRUE;
}

/* Ends the process when the agent closes our stdin (or dies): nothing outlives it. */
static DWORD WINAPI exit_on_stdin_end(LPVOID unused) {
  (void)unused;
  char buffer[256];
  DWORD read;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  while (ReadFile(in, buffer, sizeof buffer, &read, NULL) && read > 0) {
  }
  ExitProcess(0);
  return 0;
}

static int watch_window(const char *id) {
  char *end;
  unsigned long long value = strtoull(id, &end, 10);
  if (*id == '\0' || *end != '\0') {
    fprintf(stderr, "watch-window needs a window id (a number), not %s\n", id);
    return 2;
  }
  HWND window = (HWND)(ULONG_PTR)value;
  CreateThread(NULL, 0, exit_on_stdin_end, NULL, 0, NULL);
  static char line[MAX_WINDOWS * 96], last[MAX_WINDOWS * 96];
  last[0] = '\0';
  for (;;) {
    if (!window_state(window, line, sizeof line)) {
      printf("{\"gone\":true}\n");
      fflush(stdout);
      return 0;
    }
    if (strcmp(line, last) != 0) {
      printf("%s\n", line);
      fflush(stdout);
      strcpy(last, line);
    }
    Sleep(WATCH_INTERVAL_MS);
  }
}

/* ---- clipboard ---- */

/* Opens the clipboard, trying a few times: another program may hold it for a moment. */
static BOOL open_clipboard(HWND owner) {
  for (int attempt = 0; attempt < 20; attempt++) {
    if (OpenClipboard(owner)) return TRUE;
    Sleep(25);
  }
  return FALSE;
}

static int clipboard_get(void) {
  if (!IsClipboardFormatAvailable(CF_UNICODETEXT)) return 0;
  if (!open_clipboard(NULL)) {
    fprintf(stderr, "the clipboard is held by another program\n");
    return 1;
  }
  HANDLE data = GetClipboardData(CF_UNICODETEXT);
  const wchar_t *text = data ? (const wchar_t *)GlobalLock(data) : NULL;
  if (text) {
    size_t length = wcslen(text);
    wchar_t *unix_text = malloc((length + 1) * sizeof *unix_text);
    size_t out = 0;
    for (size_t i = 0; i < length; i++)
      if (!(text[i] == L'\r' && text[i + 1] == L'\n')) unix_text[out++] = text[i];
    int bytes = WideCharToMultiByte(CP_UTF8, 0, unix_text, (int)out, NULL, 0, NULL, NULL);
    char *utf8 = malloc(bytes > 0 ? (size_t)bytes : 1);
    WideCharToMultiByte(CP_UTF8, 0, unix_text, (int)out, utf8, bytes, NULL, NULL);
    fwrite(utf8, 1, bytes > 0 ? (size_t)bytes : 0, stdout);
    GlobalUnlock(data);
  }
  CloseClipboard();
  return 0;
}

static int clipboard_set(void) {
  _setmode(_fileno(stdin), _O_BINARY);
  char *utf8 = malloc(MAX_CLIPBOARD_BYTES);
  size_t bytes = fread(utf8, 1, MAX_CLIPBOARD_BYTES, stdin);
  int units = MultiByteToWideChar(CP_UTF8, 0, utf8, (int)bytes, NULL, 0);
  wchar_t *text = malloc(((size_t)units + 1) * sizeof *text);
  MultiByteToWideChar(CP_UTF8, 0, utf8, (int)bytes, text, units);
  size_t crlf_units = (size_t)units;
  for (int i = 0; i < units; i++)
    if (text[i] == L'\n' && (i == 0 || text[i - 1] != L'\r')) crlf_units++;
  HGLOBAL global = GlobalAlloc(GMEM_MOVEABLE, (crlf_units + 1) * sizeof(wchar_t));
  wchar_t *windows_text = global ? GlobalLock(global) : NULL;
  if (!windows_text) return 1;
  size_t out = 0;
  for (int i = 0; i < units; i++) {
    if (text[i] == L'\n' && (i == 0 || text[i - 1] != L'\r')) windows_text[out++] = L'\r';
    windows_text[out++] = text[i];
  }
  windows_text[out] = L'\0';
  GlobalUnlock(global);
  /* EmptyClipboard makes the window that opened the clipboard its owner, and with no window at all
     SetClipboardData fails: a message-only window owns it, and the text stays after this exits. */
  HWND owner = CreateWindowExW(0, L"STATIC", L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, NULL, NULL);
  if (!open_clipboard(owner)) {
    fprintf(stderr, "the clipboard is held by another program\n");
    return 1;
  }
  EmptyClipboard();
  BOOL set = SetClipboardData(CF_UNICODETEXT, global) != NULL;
  CloseClipboard();
  if (!set) {
    fprintf(stderr, "could not put the text on the clipboard (error %lu)\n", GetLastError());
    return 1;
  }
  return 0;
}

/* ---- guidance overlay ---- */

/* The colour the overlay window is keyed out in: a pixel of it shows what lies below. */
#define OVERLAY_KEY RGB(1, 2, 3)
#define WM_OVERLAY_LINE (WM_APP + 1)
/* Most rectangles shown at once. */
#define MAX_MARKS 65536

struct mark {
  COLORREF colour;
  RECT rect;
};
static struct mark *marks;
static int mark_count;
static POINT overlay_origin;

/* Reads what to show from a line: `<rgb> <count>` then count rectangles, for each colour. */
static void read_marks(const char *line) {
  mark_count = 0;
  char *at = (char *)line;
  for (;;) {
    char *end;
    unsigned long rgb = strtoul(at, &end, 10);
    if (end == at) return;
    at = end;
    long count = strtol(at, &end, 10);
    if (end == at) return;
    at = end;
    for (long i = 0; i < count && mark_count < MAX_MARKS; i++) {
      long v[4];
      for (int k = 0; k < 4; k++) {
        v[k] = strtol(at, &end, 10);
        if (end == at) return;
        at = end;
      }
      struct mark *m = &marks[mark_count++];
      m->colour = RGB((rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff);
      /* The key colour would be see-through: a mark in it is drawn a shade off. */
      if (m->colour == OVERLAY_KEY) m->colour = RGB(1, 2, 4);
      SetRect(&m->rect, v[0] - overlay_origin.x, v[1] - overlay_origin.y, v[0] + v[2] - overlay_origin.x,
              v[1] + v[3] - overlay_origin.y);
    }
  }
}

static LRESULT CALLBACK overlay_proc(HWND window, UINT message, WPARAM wparam, LPARAM lparam) {
  switch (message) {
  case WM_OVERLAY_LINE: {
    read_marks((const char *)lparam);
    free((void *)lparam);
    /* Windows opened since must not hide the marks. */
    SetWindowPos(window, HWND_TOPMOST, 0, 0, 0, 0, SWP_NOMOVE | SWP_NOSIZE | SWP_NOACTIVATE);
    InvalidateRect(window, NULL, TRUE);
    UpdateWindow(window);
    printf("shown\n");
    fflush(stdout);
    return 0;
  }
  case WM_ERASEBKGND:
    return 1;
  case WM_PAINT: {
    PAINTSTRUCT paint;
    HDC dc = BeginPaint(window, &paint);
    HBRUSH key = CreateSolidBrush(OVERLAY_KEY);
    FillRect(dc, &paint.rcPaint, key);
    DeleteObject(key);
    for (int i = 0; i < mark_count; i++) {
      HBRUSH brush = CreateSolidBrush(marks[i].colour);
      FillRect(dc, &marks[i].rect, brush);
      DeleteObject(brush);
    }
    EndPaint(window, &paint);
    return 0;
  }
  case WM_NCHITTEST:
    /* Never takes a click: it goes to the window below. */
    return HTTRANSPARENT;
  case WM_DESTROY:
    PostQuitMessage(0);
    return 0;
  }
  return DefWindowProcW(window, message, wparam, lparam);
}

/* Hands each line of stdin to the overlay window; closes it when stdin ends. */
static DWORD WINAPI overlay_reader(LPVOID param) {
  HWND window = (HWND)param;
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  size_t size = 4096, used = 0;
  char *buffer = malloc(size);
  DWORD read;
  while (buffer && ReadFile(in, buffer + used, (DWORD)(size - used), &read, NULL) && read > 0) {
    used += read;
    char *newline;
    while ((newline = memchr(buffer, '\n', used)) != NULL) {
      size_t length = (size_t)(newline - buffer);
      char *line = malloc(length + 1);
      memcpy(line, buffer, length);
      line[length] = '\0';
      PostMessageW(window, WM_OVERLAY_LINE, 0, (LPARAM)line);
      used -= length + 1;
      memmove(buffer, newline + 1, used);
    }
    if (used == size) buffer = realloc(buffer, size *= 2);
  }
  PostMessageW(window, WM_CLOSE, 0, 0);
  return 0;
}

static int overlay(void) {
  marks = malloc(MAX_MARKS * sizeof *marks);
  RECT desktop = virtual_desktop();
  overlay_origin.x = desktop.left;
  overlay_origin.y = desktop.top;
  WNDCLASSW class = {0};
  class.lpfnWndProc = overlay_proc;
  class.hInstance = GetModuleHandleW(NULL);
  class.lpszClassName = L"LifelineGuidance";
  RegisterClassW(&class);
  /* Topmost, click-through (WS_EX_TRANSPARENT with the layered style), never activated, not on the
     taskbar; the key colour makes everything but the marks see-through. */
  HWND window = CreateWindowExW(
      WS_EX_LAYERED | WS_EX_TRANSPARENT | WS_EX_TOPMOST | WS_EX_TOOLWINDOW | WS_EX_NOACTIVATE,
      class.lpszClassName, L"Lifeline guidance", WS_POPUP, desktop.left, desktop.top,
      desktop.right - desktop.left, desktop.bottom - desktop.top, NULL, NULL, class.hInstance, NULL);
  if (!window || !marks) {
    fprintf(stderr, "could not open the guidance overlay (error %lu)\n", GetLastError());
    return 1;
  }
  SetLayeredWindowAttributes(window, OVERLAY_KEY, 0, LWA_COLORKEY);
  ShowWindow(window, SW_SHOWNOACTIVATE);
  CreateThread(NULL, 0, overlay_reader, window, 0, NULL);
  MSG message;
  while (GetMessageW(&message, NULL, 0, 0) > 0) {
    TranslateMessage(&message);
    DispatchMessageW(&message);
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *command = argc > 1 ? argv[1] : "";
  int status;
  /* JSON lines end in \n alone, as on the other systems. */
  _setmode(_fileno(stdout), _O_BINARY);
  if (strcmp(command, "monitors") == 0) status = list_monitors();
  else if (strcmp(command, "windows") == 0) status = list_windows();
  else if (strcmp(command, "watch-window") == 0 && argc > 2) status = watch_window(argv[2]);
  else if (strcmp(command, "clipboard-get") == 0) status = clipboard_get();
  else if (strcmp(command, "clipboard-set") == 0) status = clipboard_set();
  else if (strcmp(command, "overlay") == 0) status = overlay();
  else if (strcmp(command, "capture") == 0) status = capture(argc - 2, argv + 2);
  else {
    fprintf(stderr,
            "usage: lifeline-desktop monitors | windows | watch-window HWND | clipboard-get | clipboard-set | overlay"
            " | capture X Y WIDTH HEIGHT FPS\n");
    status = 2;
  }
  fflush(stdout);
  return status;
}
