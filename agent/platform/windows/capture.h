/*
 * The desktop helper's `capture` command (capture.c) and its DXGI Desktop Duplication source
 * (capture-dxgi.c).
 */
#ifndef LIFELINE_CAPTURE_H
#define LIFELINE_CAPTURE_H

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

/* `lifeline-desktop.exe capture X Y WIDTH HEIGHT FPS`: see capture.c. */
int capture(int argc, char **argv);

/* One output duplicated with DXGI Desktop Duplication; NULL-able, opaque. */
struct dxgi_capture;

/*
 * Duplicates the output that holds all of `area` (virtual-desktop pixels), or NULL where Desktop
 * Duplication is unavailable (Wine, Windows 7, a remote session), the area spans outputs, or the
 * output's pixels are not the desktop's coordinates (DPI scaling for this unaware process): the
 * caller then reads the screen with GDI.
 */
struct dxgi_capture *dxgi_open(const RECT *area);

/*
 * Waits up to `timeout_ms` for the desktop to change inside the area and copies the area into
 * `pixels` (top-down BGRX rows, 4 bytes a pixel, no padding); with `copy_anyway`, copies whatever
 * frame comes (the first). 1: copied; 0: nothing changed there (`pixels` untouched); -1: duplication
 * stopped working (a mode change, the secure desktop): close it and read with GDI from then on.
 */
int dxgi_next(struct dxgi_capture *c, DWORD timeout_ms, BOOL copy_anyway, unsigned char *pixels);

void dxgi_close(struct dxgi_capture *c);

#endif
