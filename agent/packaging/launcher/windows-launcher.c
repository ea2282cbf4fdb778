/*
 * lifeline-launcher (Windows x64): the first part of the packed Windows agent download.
 *
 * The same layout as the Linux launcher (linux-launcher.c): this small static program, the agent's
 * single executable (node.exe with the agent injected) compressed, a footer, then the stamp the
 * control plane appends to every download:
 *
 *   launcher | compressed runtime | "LIFELINE-PACKED1" | offset (u64 LE) | length (u64 LE) | [stamp]
 *
 * Windows has no memfd, so the runtime is unpacked into the agent's own work directory: a fresh
 * %TEMP%\lifeline-agent-XXXXXX with an owner file naming this process (agent/packaging/work-dir.ts),
 * which the agent adopts (LIFELINE_AGENT_WORK_DIR) and removes when it is done (its self-delete); a
 * killed run's directory is removed by the next run's leftover cleanup, since its owner is gone. The
 * runtime runs with this same command line, console, standard handles and inherited C runtime
 * descriptors (a session host's report pipe is its descriptor 3: see run()); this process waits for
 * it and exits with its exit code. Ctrl+C reaches both (one console): the launcher ignores it and lets
 * the agent decide. The runtime is in a job that kills it should this process be killed, and whatever
 * it starts leaves that job silently (the self-delete helper must outlive both). When the runtime has
 * exited, the launcher removes the directory too (the agent's helper may still be waiting for it).
 *
 * LIFELINE_AGENT_EXECUTABLE names the downloaded file, which only agent/packaging reads: the stamp,
 * the self-deletion and the resident install use that file.
 *
 * Built by build/agent/launcher.ts with mingw-w64, statically, with liblzma's decoder compiled in
 * (xz 5.2.3's source, from the lzma-native npm package).
 */
#define WIN32_LEAN_AND_MEAN
#ifndef LZMA_API_STATIC
#define LZMA_API_STATIC
#endif
#include <windows.h>
#include <stdint.h>
#include <stdio.h>
#include <wchar.h>
#include <lzma.h>

#define PACKED_MAGIC "LIFELINE-PACKED1"
#define STAMP_MAGIC "LIFELINE-STAMP-1"
#define MAGIC_BYTES 16
#define PACKED_FOOTER_BYTES (MAGIC_BYTES + 8 + 8)
#define STAMP_FOOTER_BYTES (4 + MAGIC_BYTES)
/* The work directory's name, as agent/packaging/work-dir.ts makes it (WORK_DIR_PREFIX). */
#define WORK_DIR_PREFIX L"lifeline-agent-"
#define OWNER_FILE L"owner.json"
#define RUNTIME_FILE L"lifeline-agent.exe"
/* The agent's runtime is about 150 MB; anything far larger is not ours. */
#define RUNTIME_MAX_BYTES (1ull << 30)
/* xz -9's dictionary is 64 MiB; its decoder needs a little more. A stream asking for more is not ours. */
#define DECODER_MEMORY_MAX_BYTES (128ull << 20)
#define OUT_CHUNK_BYTES (1u << 20)
#define LONG_PATH 32768

static const char DAMAGED[] = "this file is incomplete or damaged: download the agent again";

static int fail(const char *what) {
  DWORD error = GetLastError();
  if (error)
    fprintf(stderr, "lifeline-agent: %s (Windows error %lu)\n", what, (unsigned long)error);
  else
    fprintf(stderr, "lifeline-agent: %s\n", what);
  return 127;
}

static int damaged(void) {
  SetLastError(0);
  return fail(DAMAGED);
}

static uint64_t read_le64(const unsigned char *p) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; i--) value = (value << 8) | p[i];
  return value;
}

/* Removes a directory and what is in it; never follows a link or junction out of it. */
static void remove_tree(const wchar_t *dir) {
  wchar_t pattern[LONG_PATH];
  if (swprintf(pattern, LONG_PATH, L"%ls\\*", dir) < 0) return;
  WIN32_FIND_DATAW entry;
  HANDLE find = FindFirstFileW(pattern, &entry);
  if (find != INVALID_HANDLE_VALUE) {
    do {
      if (wcscmp(entry.cFileName, L".") == 0 || wcscmp(entry.cFileName, L"..") == 0) continue;
      wchar_t path[LONG_PATH];
      if (swprintf(path, LONG_PATH, L"%ls\\%ls", dir, entry.cFileName) < 0) continue;
      if (entry.dwFileAttributes & FILE_ATTRIBUTE_READONLY)
        SetFileAttributesW(path, entry.dwFileAttributes & ~FILE_ATTRIBUTE_READONLY);
      if ((entry.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
          !(entry.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT))
        remove_tree(path);
      else if (entry.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
        RemoveDirectoryW(path);
      else
        DeleteFileW(path);
    } while (FindNextFileW(find, &entry));
    FindClose(find);
  }
  RemoveDirectoryW(dir);
}

/* Creates %TEMP%\lifeline-agent-XXXXXX (a name nobody has) with its owner file, as work-dir.ts does. */
static int create_work_dir(wchar_t *dir) {
  /* Node's os.tmpdir() on Windows: TEMP, then TMP (GetTempPath prefers TMP), so the agent finds it. */
  wchar_t temp[MAX_PATH + 1];
  DWORD length = GetEnvironmentVariableW(L"TEMP", temp, MAX_PATH + 1);
  if (length == 0 || length > MAX_PATH) length = GetEnvironmentVariableW(L"TMP", temp, MAX_PATH + 1);
  if (length == 0 || length > MAX_PATH) length = GetTempPathW(MAX_PATH + 1, temp);
  if (length == 0 || length > MAX_PATH) return fail("cannot find the temporary folder (%TEMP%)");
  while (length > 3 && (temp[length - 1] == L'\\' || temp[length - 1] == L'/')) temp[--length] = L'\0';
  static const wchar_t letters[] = L"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  LARGE_INTEGER seed;
  QueryPerformanceCounter(&seed);
  uint64_t state = (uint64_t)seed.QuadPart ^ ((uint64_t)GetCurrentProcessId() << 32);
  for (int attempt = 0; attempt < 100; attempt++) {
    wchar_t suffix[7];
    for (int i = 0; i < 6; i++) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      suffix[i] = letters[(state >> 33) % (sizeof letters / sizeof *letters - 1)];
    }
    suffix[6] = L'\0';
    if (swprintf(dir, LONG_PATH, L"%ls\\%ls%ls", temp, WORK_DIR_PREFIX, suffix) < 0) break;
    if (CreateDirectoryW(dir, NULL)) goto created;
    if (GetLastError() != ERROR_ALREADY_EXISTS) return fail("cannot create its folder in %TEMP%");
  }
  return fail("cannot create its folder in %TEMP%");

created:;
  FILETIME now;
  GetSystemTimeAsFileTime(&now);
  /* 100 ns ticks since 1601 to milliseconds since 1970. */
  uint64_t ms = ((((uint64_t)now.dwHighDateTime << 32) | now.dwLowDateTime) - 116444736000000000ull) / 10000;
  char owner[96];
  int owner_length = snprintf(owner, sizeof owner, "{\"pid\":%lu,\"startedAt\":%llu}",
                              (unsigned long)GetCurrentProcessId(), (unsigned long long)ms);
  wchar_t path[LONG_PATH];
  swprintf(path, LONG_PATH, L"%ls\\%ls", dir, OWNER_FILE);
  HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
  DWORD written = 0;
  BOOL ok = file != INVALID_HANDLE_VALUE && WriteFile(file, owner, (DWORD)owner_length, &written, NULL) &&
            written == (DWORD)owner_length;
  if (file != INVALID_HANDLE_VALUE) CloseHandle(file);
  if (!ok) {
    int status = fail("cannot write in its folder in %TEMP%");
    remove_tree(dir);
    return status;
  }
  return 0;
}

/* Decompresses the xz stream into `path`, a new file (the caller removes it on failure). */
static int unpack(const unsigned char *stream, size_t length, const wchar_t *path) {
  HANDLE file = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
  if (file == INVALID_HANDLE_VALUE) return fail("cannot write the agent into its folder in %TEMP%");
  unsigned char *out = HeapAlloc(GetProcessHeap(), 0, OUT_CHUNK_BYTES);
  lzma_stream xz = LZMA_STREAM_INIT;
  if (!out || lzma_stream_decoder(&xz, DECODER_MEMORY_MAX_BYTES, 0) != LZMA_OK) {
    CloseHandle(file);
    return fail("out of memory");
  }
  xz.next_in = stream;
  xz.avail_in = length;
  uint64_t written_total = 0;
  lzma_ret result;
  int status = 0;
  do {
    xz.next_out = out;
    xz.avail_out = OUT_CHUNK_BYTES;
    result = lzma_code(&xz, LZMA_FINISH);
    DWORD chunk = (DWORD)(OUT_CHUNK_BYTES - xz.avail_out);
    DWORD written = 0;
    if (chunk > 0 && (!WriteFile(file, out, chunk, &written, NULL) || written != chunk)) {
      status = fail("cannot write the agent into its folder in %TEMP% (is the disk full?)");
      break;
    }
    written_total += chunk;
    if (written_total > RUNTIME_MAX_BYTES) result = LZMA_DATA_ERROR;
  } while (result == LZMA_OK);
  if (status == 0 && result != LZMA_STREAM_END) {
    SetLastError(0);
    fprintf(stderr, "lifeline-agent: this file is damaged (xz error %d): download the agent again\n", (int)result);
    status = 127;
  }
  lzma_end(&xz);
  HeapFree(GetProcessHeap(), 0, out);
  if (!CloseHandle(file) && status == 0) status = fail("cannot write the agent into its folder in %TEMP%");
  return status;
}

/* The console's Ctrl+C and Ctrl+Break go to the agent as well: it decides, this process waits. */
static BOOL WINAPI ignore_interrupt(DWORD event) {
  return event == CTRL_C_EVENT || event == CTRL_BREAK_EVENT;
}

/* Makes a standard handle inheritable so the runtime gets it as is (console, pipe or file). */
static HANDLE inheritable(DWORD which) {
  HANDLE handle = GetStdHandle(which);
  if (handle && handle != INVALID_HANDLE_VALUE) SetHandleInformation(handle, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  return handle;
}

/* Whether this process has a console: one started without any (DETACHED_PROCESS) has none. */
static BOOL has_console(void) {
  DWORD pids[1];
  return GetConsoleProcessList(pids, 1) > 0;
}

static int run(const wchar_t *self, const wchar_t *dir, const wchar_t *runtime) {
  if (!SetEnvironmentVariableW(L"LIFELINE_AGENT_EXECUTABLE", self) ||
      !SetEnvironmentVariableW(L"LIFELINE_AGENT_WORK_DIR", dir))
    return fail("cannot set its environment");
  SetConsoleCtrlHandler(ignore_interrupt, TRUE);

  /* Kill the runtime with this process; what the runtime starts breaks away from the job. */
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (job) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK;
    if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits)) {
      CloseHandle(job);
      job = NULL;
    }
  }

  STARTUPINFOW own = {0};
  own.cb = sizeof own;
  GetStartupInfoW(&own);
  STARTUPINFOW startup = {0};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES | (own.dwFlags & STARTF_USESHOWWINDOW);
  startup.wShowWindow = own.wShowWindow;
  startup.hStdInput = inheritable(STD_INPUT_HANDLE);
  startup.hStdOutput = inheritable(STD_OUTPUT_HANDLE);
  startup.hStdError = inheritable(STD_ERROR_HANDLE);
  /*
   * The C runtime's descriptor table this process was started with (a count, a flag byte and a handle
   * per descriptor), passed on as is: it is how Node hands a child descriptors past 0-2, and a session
   * host's report channel is its descriptor 3, an anonymous pipe from the resident service through the
   * service host's run-in-session (agent/device/windows/user-session.c). Its handles were inherited by
   * this process, so they are inheritable here too (bInheritHandles below).
   */
  startup.cbReserved2 = own.cbReserved2;
  startup.lpReserved2 = own.lpReserved2;
  PROCESS_INFORMATION child;
  /*
   * This process's own command line, verbatim: the runtime parses the same words the user's (or
   * Node's) quoting gave this one, with nothing re-quoted on the way; its first word names the
   * download, which Node does not use (its execPath is the runtime's own file).
   */
  const wchar_t *line = GetCommandLineW();
  size_t line_length = wcslen(line) + 1;
  /* CreateProcess may write into the command line: give it a copy. */
  wchar_t *command_line = HeapAlloc(GetProcessHeap(), 0, line_length * sizeof *command_line);
  if (!command_line) return fail("out of memory");
  memcpy(command_line, line, line_length * sizeof *command_line);
  /* Without a console of its own (hidden session host), the runtime must not open a window for one. */
  DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | (has_console() ? 0 : CREATE_NO_WINDOW);
  if (!CreateProcessW(runtime, command_line, NULL, NULL, TRUE, flags, NULL, NULL, &startup, &child))
    return fail("cannot start the agent");
  /* Inside a job that allows no breakaway (before Windows 8), run without one. */
  if (job && !AssignProcessToJobObject(job, child.hProcess)) {
    CloseHandle(job);
    job = NULL;
  }
  ResumeThread(child.hThread);
  CloseHandle(child.hThread);
  WaitForSingleObject(child.hProcess, INFINITE);
  DWORD code = 127;
  GetExitCodeProcess(child.hProcess, &code);
  CloseHandle(child.hProcess);
  if (job) CloseHandle(job);
  return (int)code;
}

int wmain(void) {
  static wchar_t self[LONG_PATH];
  DWORD self_length = GetModuleFileNameW(NULL, self, LONG_PATH);
  if (self_length == 0 || self_length >= LONG_PATH) return fail("cannot find its own file");

  HANDLE file = CreateFileW(self, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                            FILE_ATTRIBUTE_NORMAL, NULL);
  LARGE_INTEGER file_size;
  if (file == INVALID_HANDLE_VALUE || !GetFileSizeEx(file, &file_size)) return fail("cannot read its own file");
  HANDLE mapping = CreateFileMappingW(file, NULL, PAGE_READONLY, 0, 0, NULL);
  const unsigned char *bytes = mapping ? MapViewOfFile(mapping, FILE_MAP_READ, 0, 0, 0) : NULL;
  if (!bytes) return fail("cannot map its own file");
  CloseHandle(mapping);
  CloseHandle(file);

  size_t end = (size_t)file_size.QuadPart;
  if (end >= STAMP_FOOTER_BYTES && memcmp(bytes + end - MAGIC_BYTES, STAMP_MAGIC, MAGIC_BYTES) == 0) {
    const unsigned char *p = bytes + end - STAMP_FOOTER_BYTES;
    size_t jwt = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (jwt > end - STAMP_FOOTER_BYTES) {
      SetLastError(0);
      return fail("the stamp at the end of this file is damaged: download the agent again");
    }
    end -= STAMP_FOOTER_BYTES + jwt;
  }
  if (end < PACKED_FOOTER_BYTES) return damaged();
  const unsigned char *footer = bytes + end - PACKED_FOOTER_BYTES;
  if (memcmp(footer, PACKED_MAGIC, MAGIC_BYTES) != 0) return damaged();
  uint64_t offset = read_le64(footer + MAGIC_BYTES);
  uint64_t length = read_le64(footer + MAGIC_BYTES + 8);
  if (offset > end || length != end - PACKED_FOOTER_BYTES - offset) return damaged();

  static wchar_t dir[LONG_PATH];
  static wchar_t runtime[LONG_PATH];
  int status = create_work_dir(dir);
  if (status != 0) return status;
  swprintf(runtime, LONG_PATH, L"%ls\\%ls", dir, RUNTIME_FILE);
  status = unpack(bytes + offset, (size_t)length, runtime);
  UnmapViewOfFile(bytes);
  if (status == 0) status = run(self, dir, runtime);
  remove_tree(dir);
  return status;
}
