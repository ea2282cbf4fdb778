/*
 * The service host's sub-commands about the user at the console (lifeline-service.exe …).
 *
 * A Windows service runs in session 0, which has no desktop anyone sees: what the resident agent
 * starts for the user (session hosts, notices) must be started in the active console session, with
 * the user's token. Node has no binding for that; these sub-commands are it, so the agent stays
 * portable JavaScript:
 *
 *   console-user             prints one JSON line: {"session":N,"user":"…","domain":"…","sid":"S-…"}
 *                            ({"session":N} alone when nobody is logged in there); exit 1 on failure.
 *   run-in-session COMMAND…  starts COMMAND (the rest of this command line, as given) as the console
 *                            user, in their session, on winsta0\default, with this process's
 *                            standard handles, its C runtime descriptors past 0-2 (a session host's
 *                            report channel, descriptor 3) and no window, in a job that kills it when
 *                            this process ends; waits and exits with its exit code (1 when it cannot
 *                            start).
 *   open-in-session COMMAND… the same in a console window of its own on the user's desktop (a session
 *                            host the user sees and answers, like the notice terminal on Linux): its
 *                            descriptors 0-2 are that console, 3 and up are passed on.
 *   notify TITLE TEXT        shows TEXT on the user's desktop without waiting: WTSSendMessageW, or
 *                            where that fails `message-box TITLE TEXT` started in their session.
 *                            Exit 0 when shown, 1 when nobody is there to tell.
 *   message-box TITLE TEXT   a message box (what `notify` falls back to).
 *
 * The user's token: WTSQueryUserToken (SYSTEM holds the privilege it needs); where it fails, the
 * token of the user's shell (explorer.exe) running in that session.
 */
#include "user-session.h"

#include <sddl.h>
#include <tlhelp32.h>
#include <userenv.h>
#include <wtsapi32.h>

/* How long a notice sent with WTSSendMessageW stays open, in seconds (user-notices.ts, NOTICE_OPEN_MS). */
#define NOTICE_OPEN_SECONDS 600
#define NO_SESSION 0xFFFFFFFF

/* Prints `text` as a JSON string: quotes, backslashes and everything outside printable ASCII escaped. */
static void print_json_string(const wchar_t *text) {
  putwchar(L'"');
  for (; *text; text++) {
    if (*text == L'"' || *text == L'\\') wprintf(L"\\%lc", *text);
    else if (*text < 0x20 || *text > 0x7e) wprintf(L"\\u%04x", (unsigned)*text);
    else putwchar(*text);
  }
  putwchar(L'"');
}

/* One string of a session (WTSUserName, WTSDomainName) into `out`; empty when there is none. */
static void session_string(DWORD session, WTS_INFO_CLASS what, wchar_t *out, size_t size) {
  LPWSTR value = NULL;
  DWORD bytes = 0;
  out[0] = L'\0';
  if (!WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, session, what, &value, &bytes)) return;
  if (value) {
    wcsncpy(out, value, size - 1);
    out[size - 1] = L'\0';
    WTSFreeMemory(value);
  }
}

/* The token of the user's shell (explorer.exe) in `session`; NULL when none runs there. */
static HANDLE shell_token(DWORD session) {
  HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return NULL;
  PROCESSENTRY32W entry = {0};
  entry.dwSize = sizeof entry;
  HANDLE token = NULL;
  for (BOOL more = Process32FirstW(snapshot, &entry); more && !token; more = Process32NextW(snapshot, &entry)) {
    DWORD in = NO_SESSION;
    if (_wcsicmp(entry.szExeFile, L"explorer.exe") != 0) continue;
    if (!ProcessIdToSessionId(entry.th32ProcessID, &in) || in != session) continue;
    HANDLE process = OpenProcess(PROCESS_QUERY_INFORMATION, FALSE, entry.th32ProcessID);
    if (!process) continue;
    HANDLE own = NULL;
    if (OpenProcessToken(process, TOKEN_DUPLICATE | TOKEN_QUERY, &own)) {
      DuplicateTokenEx(own, TOKEN_ALL_ACCESS, NULL, SecurityImpersonation, TokenPrimary, &token);
      CloseHandle(own);
    }
    CloseHandle(process);
  }
  CloseHandle(snapshot);
  return token;
}

/* A primary token of the user logged in at the console session; NULL when nobody is. */
static HANDLE console_token(DWORD *session) {
  *session = WTSGetActiveConsoleSessionId();
  if (*session == NO_SESSION) return NULL;
  HANDLE token = NULL;
  if (WTSQueryUserToken(*session, &token)) return token;
  return shell_token(*session);
}

/* The string SID of the token's user into `out` (empty when it cannot be read). */
static void token_sid(HANDLE token, wchar_t *out, size_t size) {
  BYTE buffer[256];
  DWORD length = 0;
  LPWSTR sid = NULL;
  out[0] = L'\0';
  if (!GetTokenInformation(token, TokenUser, buffer, sizeof buffer, &length)) return;
  if (!ConvertSidToStringSidW(((TOKEN_USER *)buffer)->User.Sid, &sid)) return;
  wcsncpy(out, sid, size - 1);
  out[size - 1] = L'\0';
  LocalFree(sid);
}

static int console_user(void) {
  DWORD session = WTSGetActiveConsoleSessionId();
  if (session == NO_SESSION) return 1;
  wchar_t user[256], domain[256], sid[256] = L"";
  session_string(session, WTSUserName, user, 256);
  session_string(session, WTSDomainName, domain, 256);
  wprintf(L"{\"session\":%lu", (unsigned long)session);
  if (user[0]) {
    DWORD ignored;
    HANDLE token = console_token(&ignored);
    if (token) {
      token_sid(token, sid, 256);
      CloseHandle(token);
    }
    wprintf(L",\"user\":");
    print_json_string(user);
    wprintf(L",\"domain\":");
    print_json_string(domain);
    if (sid[0]) {
      wprintf(L",\"sid\":");
      print_json_string(sid);
    }
  }
  wprintf(L"}\n");
  fflush(stdout);
  return 0;
}

/*
 * The C runtime's table of this process's inherited descriptors (STARTUPINFO lpReserved2: a count,
 * a flag byte per descriptor, then a handle per descriptor, unaligned), which is how Node hands a
 * child descriptors past 0-2. Passed on to the command, it gets descriptor 3 (a session host's report
 * channel: an anonymous pipe of the agent's, which only the processes started with it hold). With a
 * window of its own (`console`), its descriptors 0-2 are its console's: they are cleared in the copy.
 * Returns the copy to free, or NULL when there is nothing to pass.
 */
static BYTE *inherited_descriptors(STARTUPINFOW *startup, BOOL console) {
  STARTUPINFOW own = {0};
  own.cb = sizeof own;
  GetStartupInfoW(&own);
  if (!own.lpReserved2 || own.cbReserved2 < sizeof(int)) return NULL;
  BYTE *copy = malloc(own.cbReserved2);
  if (!copy) return NULL;
  memcpy(copy, own.lpReserved2, own.cbReserved2);
  int count = 0;
  memcpy(&count, copy, sizeof count);
  if (count < 0 || (size_t)own.cbReserved2 < sizeof count + (size_t)count * (1 + sizeof(HANDLE))) {
    free(copy);
    return NULL;
  }
  for (int fd = 0; console && fd < 3 && fd < count; fd++) {
    HANDLE none = INVALID_HANDLE_VALUE;
    copy[sizeof count + fd] = 0;
    memcpy(copy + sizeof count + count + fd * sizeof(HANDLE), &none, sizeof none);
  }
  startup->cbReserved2 = own.cbReserved2;
  startup->lpReserved2 = copy;
  return copy;
}

/*
 * Starts `command_line` with `token` in its session's interactive desktop and the user's own
 * environment; in `job` when one is given (before it runs). With `pass`, it inherits this process's
 * descriptors: its standard handles (unless it has a `window`, a console of its own) and those
 * past 0-2 (inherited_descriptors).
 */
static HANDLE start_as(HANDLE token, wchar_t *command_line, HANDLE job, BOOL pass, BOOL window) {
  void *environment = NULL;
  if (!CreateEnvironmentBlock(&environment, token, FALSE)) environment = NULL;
  STARTUPINFOW startup = {0};
  startup.cb = sizeof startup;
  startup.lpDesktop = (LPWSTR)L"winsta0\\default";
  if (pass && !window) {
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
    startup.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    startup.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  }
  BYTE *descriptors = pass ? inherited_descriptors(&startup, window) : NULL;
  PROCESS_INFORMATION process = {0};
  DWORD flags = CREATE_SUSPENDED | (window ? CREATE_NEW_CONSOLE : CREATE_NO_WINDOW) |
                (environment ? CREATE_UNICODE_ENVIRONMENT : 0);
  BOOL started = CreateProcessAsUserW(token, NULL, command_line, NULL, NULL, pass, flags, environment, NULL,
                                      &startup, &process);
  free(descriptors);
  if (environment) DestroyEnvironmentBlock(environment);
  if (!started) return NULL;
  if (job) AssignProcessToJobObject(job, process.hProcess);
  ResumeThread(process.hThread);
  CloseHandle(process.hThread);
  return process.hProcess;
}

/* What follows ` WORD ` in this process's own command line (the caller's quoting kept); NULL if nothing. */
static wchar_t *rest_after(const wchar_t *word) {
  wchar_t marker[64];
  _snwprintf(marker, 64, L" %ls ", word);
  wchar_t *found = wcsstr(GetCommandLineW(), marker);
  if (!found) return NULL;
  found += wcslen(marker);
  while (*found == L' ') found++;
  return *found ? found : NULL;
}

static int run_in_session(wchar_t *command_line, BOOL window) {
  DWORD session;
  HANDLE token = console_token(&session);
  if (!token) {
    fwprintf(stderr, L"Nobody is logged in at the console.\n");
    return 1;
  }
  // Killed with this process: the job's last handle is this process's own.
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (job) {
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
    limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
    SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  }
  HANDLE child = start_as(token, command_line, job, TRUE, window);
  CloseHandle(token);
  if (!child) {
    fwprintf(stderr, L"The command could not be started in session %lu (error %lu).\n", (unsigned long)session,
             GetLastError());
    return 1;
  }
  WaitForSingleObject(child, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(child, &code);
  CloseHandle(child);
  return (int)code;
}

static int message_box(const wchar_t *title, const wchar_t *text) {
  MessageBoxW(NULL, text, title, MB_OK | MB_ICONINFORMATION | MB_SETFOREGROUND | MB_TOPMOST);
  return 0;
}

static int notify(const wchar_t *title, const wchar_t *text) {
  DWORD session = WTSGetActiveConsoleSessionId();
  if (session == NO_SESSION) return 1;
  DWORD response = 0;
  if (WTSSendMessageW(WTS_CURRENT_SERVER_HANDLE, session, (LPWSTR)title, (DWORD)(wcslen(title) * sizeof *title),
                      (LPWSTR)text, (DWORD)(wcslen(text) * sizeof *text), MB_OK | MB_ICONINFORMATION,
                      NOTICE_OPEN_SECONDS, &response, FALSE))
    return 0;
  // The message box in the user's session, by this same executable.
  DWORD ignored;
  HANDLE token = console_token(&ignored);
  if (!token) return 1;
  wchar_t self[MAX_PATH * 2];
  DWORD length = GetModuleFileNameW(NULL, self, MAX_PATH * 2);
  size_t size = wcslen(title) + wcslen(text) + MAX_PATH * 2 + 64;
  wchar_t *command_line = calloc(size, sizeof *command_line);
  HANDLE shown = NULL;
  // Title and text come from the agent as printable text without quotes (user-notices.ts).
  if (command_line && length > 0 && length < MAX_PATH * 2) {
    _snwprintf(command_line, size, L"\"%ls\" message-box \"%ls\" \"%ls\"", self, title, text);
    // Not inheriting: the box outlives this process and must not hold the agent's pipes open.
    shown = start_as(token, command_line, NULL, FALSE, FALSE);
  }
  free(command_line);
  CloseHandle(token);
  if (!shown) return 1;
  CloseHandle(shown);
  return 0;
}

int run_user_command(int argc, wchar_t **argv) {
  const wchar_t *command = argv[1];
  if (wcscmp(command, L"console-user") == 0) return console_user();
  BOOL window = wcscmp(command, L"open-in-session") == 0;
  if (window || wcscmp(command, L"run-in-session") == 0) {
    wchar_t *rest = argc >= 3 ? rest_after(command) : NULL;
    return rest ? run_in_session(rest, window) : -1;
  }
  if (wcscmp(command, L"notify") == 0 && argc == 4) return notify(argv[2], argv[3]);
  if (wcscmp(command, L"message-box") == 0 && argc == 4) return message_box(argv[2], argv[3]);
  return -1;
}
