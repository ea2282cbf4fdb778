/*
 * lifeline-launcher (Linux x64): the first part of the packed agent download.
 *
 * The downloaded file is this small static program followed by the agent's single executable (the
 * Node runtime with the agent injected), compressed with zstd, then a footer, then the stamp the
 * control plane appends to every download:
 *
 *   launcher | zstd frame | "LIFELINE-PACKED1" | offset (u64 LE) | length (u64 LE) | [stamp trailer]
 *
 * The launcher finds the frame (skipping the stamp trailer, "JWT | length (u32 BE) |
 * LIFELINE-STAMP-1"), decompresses it into an anonymous memory file (memfd_create: nothing is written
 * to disk) and executes that with fexecve, in this same process (same pid, same arguments, same
 * terminal). The runtime cannot know the file it came from (/proc/self/exe is the memory file), so the
 * launcher names it in LIFELINE_AGENT_EXECUTABLE, which only agent/packaging reads: the stamp, the
 * self-deletion and re-running the agent all use that file.
 *
 * Built by build/agent/launcher.ts, linked statically with Debian's libzstd (libzstd-dev).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#define PACKED_MAGIC "LIFELINE-PACKED1"
#define STAMP_MAGIC "LIFELINE-STAMP-1"
#define MAGIC_BYTES 16
#define PACKED_FOOTER_BYTES (MAGIC_BYTES + 8 + 8)
#define STAMP_FOOTER_BYTES (4 + MAGIC_BYTES)
/* The build compresses with --long=27; a frame asking for more is not ours. */
#define WINDOW_LOG_MAX 27
#define OUT_CHUNK_BYTES (4u << 20)

extern char **environ;

static int fail(const char *what) {
  fprintf(stderr, "lifeline-agent: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
  return 127;
}

static uint64_t read_le64(const unsigned char *p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; i--) value = (value << 8) | p[i];
  return value;
}

static int write_all(int fd, const void *data, size_t length) {
  const char *p = data;
  while (length > 0) {
    ssize_t written = write(fd, p, length);
    if (written < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += written;
    length -= (size_t)written;
  }
  return 0;
}

int main(int argc, char **argv) {
  (void)argc;
  char self[PATH_MAX];
  ssize_t self_length = readlink("/proc/self/exe", self, sizeof self - 1);
  if (self_length <= 0) return fail("cannot find its own file (/proc/self/exe)");
  self[self_length] = '\0';

  int file = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  struct stat info;
  if (file < 0 || fstat(file, &info) != 0) return fail("cannot read its own file");
  size_t size = (size_t)info.st_size;
  const unsigned char *bytes = mmap(NULL, size, PROT_READ, MAP_PRIVATE, file, 0);
  if (bytes == MAP_FAILED) return fail("cannot map its own file");
  close(file);

  size_t end = size;
  if (end >= STAMP_FOOTER_BYTES && memcmp(bytes + end - MAGIC_BYTES, STAMP_MAGIC, MAGIC_BYTES) == 0) {
    const unsigned char *p = bytes + end - STAMP_FOOTER_BYTES;
    size_t jwt = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (jwt > end - STAMP_FOOTER_BYTES) return errno = 0, fail("the stamp at the end of this file is damaged");
    end -= STAMP_FOOTER_BYTES + jwt;
  }
  const unsigned char *footer = bytes + end - PACKED_FOOTER_BYTES;
  if (end < PACKED_FOOTER_BYTES || memcmp(footer, PACKED_MAGIC, MAGIC_BYTES) != 0)
    return errno = 0, fail("this file is incomplete or damaged: download the agent again");
  uint64_t offset = read_le64(footer + MAGIC_BYTES);
  uint64_t length = read_le64(footer + MAGIC_BYTES + 8);
  if (offset > end || length != end - PACKED_FOOTER_BYTES - offset)
    return errno = 0, fail("this file is incomplete or damaged: download the agent again");

  int runtime = memfd_create("lifeline-agent", MFD_CLOEXEC);
  if (runtime < 0) return fail("cannot create a memory file (memfd_create)");
  ZSTD_DCtx *context = ZSTD_createDCtx();
  unsigned char *out = malloc(OUT_CHUNK_BYTES);
  if (!context || !out) return fail("out of memory");
  ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, WINDOW_LOG_MAX);
  ZSTD_inBuffer in = {bytes + offset, (size_t)length, 0};
  size_t remaining = 1;
  while (in.pos < in.size) {
    ZSTD_outBuffer chunk = {out, OUT_CHUNK_BYTES, 0};
    remaining = ZSTD_decompressStream(context, &chunk, &in);
    if (ZSTD_isError(remaining)) {
      fprintf(stderr, "lifeline-agent: this file is damaged (%s): download the agent again\n",
              ZSTD_getErrorName(remaining));
      return 127;
    }
    if (write_all(runtime, out, chunk.pos) != 0) return fail("cannot write the memory file");
  }
  if (remaining != 0) return errno = 0, fail("this file is truncated: download the agent again");
  ZSTD_freeDCtx(context);
  free(out);
  munmap((void *)bytes, size);

  if (setenv("LIFELINE_AGENT_EXECUTABLE", self, 1) != 0) return fail("cannot set its environment");
  fexecve(runtime, argv, environ);
  return fail("cannot start the agent (fexecve)");
}
