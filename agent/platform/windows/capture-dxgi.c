/*
 * DXGI Desktop Duplication for the helper's `capture` (see capture.h): Windows says when and where
 * the desktop changed (AcquireNextFrame, GetFrameDirtyRects, GetFrameMoveRects), so a still desktop
 * costs no copy and no comparison at all.
 *
 * Only exercised on real Windows: Wine 8 has no working Desktop Duplication, so under Wine (and in
 * CI) dxgi_open returns NULL and capture.c reads the screen with GDI.
 */
#define COBJMACROS
#include "capture.h"

#include <initguid.h>
#include <d3d11.h>
#include <dxgi1_2.h>
#include <string.h>

struct dxgi_capture {
  ID3D11Device *device;
  ID3D11DeviceContext *context;
  IDXGIOutputDuplication *duplication;
  /* CPU-readable copy of the area. */
  ID3D11Texture2D *staging;
  /* The area relative to the output's top-left corner. */
  RECT area;
  /* Room for the dirty and move rectangles of one frame. */
  unsigned char *rects;
  UINT rects_size;
};

void dxgi_close(struct dxgi_capture *c) {
  if (!c) return;
  if (c->staging) ID3D11Texture2D_Release(c->staging);
  if (c->duplication) IDXGIOutputDuplication_Release(c->duplication);
  if (c->context) ID3D11DeviceContext_Release(c->context);
  if (c->device) ID3D11Device_Release(c->device);
  free(c->rects);
  free(c);
}

/* Finds the output holding all of `area` whose desktop pixels are the same as GDI's coordinates. */
static IDXGIOutput1 *output_for(const RECT *area, IDXGIAdapter1 **adapter_found, RECT *bounds) {
  IDXGIFactory1 *factory;
  if (FAILED(CreateDXGIFactory1(&IID_IDXGIFactory1, (void **)&factory))) return NULL;
  IDXGIOutput1 *found = NULL;
  IDXGIAdapter1 *adapter;
  for (UINT a = 0; !found && IDXGIFactory1_EnumAdapters1(factory, a, &adapter) == S_OK; a++) {
    IDXGIOutput *output;
    for (UINT o = 0; !found && IDXGIAdapter1_EnumOutputs(adapter, o, &output) == S_OK; o++) {
      DXGI_OUTPUT_DESC desc;
      MONITORINFO monitor;
      monitor.cbSize = sizeof monitor;
      RECT r = {0};
      BOOL fits = SUCCEEDED(IDXGIOutput_GetDesc(output, &desc)) && desc.AttachedToDesktop &&
                  desc.Rotation <= DXGI_MODE_ROTATION_IDENTITY && GetMonitorInfoW(desc.Monitor, &monitor) &&
                  EqualRect(&monitor.rcMonitor, &desc.DesktopCoordinates) &&
                  IntersectRect(&r, area, &desc.DesktopCoordinates) && EqualRect(&r, area);
      if (fits && SUCCEEDED(IDXGIOutput_QueryInterface(output, &IID_IDXGIOutput1, (void **)&found))) {
        *bounds = desc.DesktopCoordinates;
        *adapter_found = adapter;
        IDXGIAdapter1_AddRef(adapter);
      }
      IDXGIOutput_Release(output);
    }
    IDXGIAdapter1_Release(adapter);
  }
  IDXGIFactory1_Release(factory);
  return found;
}

struct dxgi_capture *dxgi_open(const RECT *area) {
  IDXGIAdapter1 *adapter = NULL;
  RECT bounds = {0};
  IDXGIOutput1 *output = output_for(area, &adapter, &bounds);
  if (!output) return NULL;
  struct dxgi_capture *c = calloc(1, sizeof *c);
  HRESULT hr = c ? D3D11CreateDevice((IDXGIAdapter *)adapter, D3D_DRIVER_TYPE_UNKNOWN, NULL, 0, NULL, 0,
                                     D3D11_SDK_VERSION, &c->device, NULL, &c->context)
                 : E_OUTOFMEMORY;
  if (SUCCEEDED(hr)) hr = IDXGIOutput1_DuplicateOutput(output, (IUnknown *)c->device, &c->duplication);
  IDXGIOutput1_Release(output);
  IDXGIAdapter1_Release(adapter);
  if (FAILED(hr)) {
    dxgi_close(c);
    return NULL;
  }
  SetRect(&c->area, area->left - bounds.left, area->top - bounds.top, area->right - bounds.left,
          area->bottom - bounds.top);
  D3D11_TEXTURE2D_DESC desc = {0};
  desc.Width = (UINT)(area->right - area->left);
  desc.Height = (UINT)(area->bottom - area->top);
  desc.MipLevels = 1;
  desc.ArraySize = 1;
  desc.Format = DXGI_FORMAT_B8G8R8A8_UNORM;
  desc.SampleDesc.Count = 1;
  desc.Usage = D3D11_USAGE_STAGING;
  desc.CPUAccessFlags = D3D11_CPU_ACCESS_READ;
  if (FAILED(ID3D11Device_CreateTexture2D(c->device, &desc, NULL, &c->staging))) {
    dxgi_close(c);
    return NULL;
  }
  return c;
}

/* Whether any dirty or move rectangle of the frame just acquired touches the area. */
static BOOL area_changed(struct dxgi_capture *c, const DXGI_OUTDUPL_FRAME_INFO *info) {
  if (info->TotalMetadataBufferSize == 0) return FALSE;
  if (info->TotalMetadataBufferSize > c->rects_size) {
    free(c->rects);
    c->rects = malloc(info->TotalMetadataBufferSize);
    c->rects_size = c->rects ? info->TotalMetadataBufferSize : 0;
    /* Cannot tell where: take it as changed. */
    if (!c->rects) return TRUE;
  }
  RECT overlap;
  UINT size = 0;
  DXGI_OUTDUPL_MOVE_RECT *moves = (DXGI_OUTDUPL_MOVE_RECT *)c->rects;
  if (FAILED(IDXGIOutputDuplication_GetFrameMoveRects(c->duplication, c->rects_size, moves, &size)))
    return TRUE;
  for (UINT i = 0; i < size / sizeof *moves; i++)
    if (IntersectRect(&overlap, &moves[i].DestinationRect, &c->area)) return TRUE;
  RECT *dirty = (RECT *)c->rects;
  if (FAILED(IDXGIOutputDuplication_GetFrameDirtyRects(c->duplication, c->rects_size, dirty, &size)))
    return TRUE;
  for (UINT i = 0; i < size / sizeof *dirty; i++)
    if (IntersectRect(&overlap, &dirty[i], &c->area)) return TRUE;
  return FALSE;
}

int dxgi_next(struct dxgi_capture *c, DWORD timeout_ms, BOOL copy_anyway, unsigned char *pixels) {
  DXGI_OUTDUPL_FRAME_INFO info;
  IDXGIResource *resource;
  HRESULT hr = IDXGIOutputDuplication_AcquireNextFrame(c->duplication, timeout_ms, &info, &resource);
  if (hr == DXGI_ERROR_WAIT_TIMEOUT) return 0;
  if (FAILED(hr)) return -1;
  /* A pointer that moved changes the picture too: the cursor is drawn into it. */
  BOOL changed = copy_anyway || info.LastMouseUpdateTime.QuadPart != 0 || area_changed(c, &info);
  int result = 0;
  ID3D11Texture2D *texture;
  if (changed && SUCCEEDED(IDXGIResource_QueryInterface(resource, &IID_ID3D11Texture2D, (void **)&texture))) {
    D3D11_BOX box = {(UINT)c->area.left, (UINT)c->area.top, 0, (UINT)c->area.right, (UINT)c->area.bottom, 1};
    ID3D11DeviceContext_CopySubresourceRegion(c->context, (ID3D11Resource *)c->staging, 0, 0, 0, 0,
                                              (ID3D11Resource *)texture, 0, &box);
    ID3D11Texture2D_Release(texture);
    D3D11_MAPPED_SUBRESOURCE mapped;
    result = -1;
    if (SUCCEEDED(ID3D11DeviceContext_Map(c->context, (ID3D11Resource *)c->staging, 0, D3D11_MAP_READ, 0, &mapped))) {
      size_t row_bytes = (size_t)(c->area.right - c->area.left) * 4;
      for (LONG row = 0; row < c->area.bottom - c->area.top; row++)
        memcpy(pixels + row * row_bytes, (unsigned char *)mapped.pData + row * mapped.RowPitch, row_bytes);
      ID3D11DeviceContext_Unmap(c->context, (ID3D11Resource *)c->staging, 0);
      result = 1;
    }
  }
  IDXGIResource_Release(resource);
  IDXGIOutputDuplication_ReleaseFrame(c->duplication);
  return result;
}
