/*
 * The Windows service host of the resident agent (lifeline-service.exe).
 *
 * The agent is a Node single executable, and Node does not speak the service control protocol
 * (StartServiceCtrlDispatcher): run as a service by itself, the service control manager (SCM) would
 * wait for a RUNNING report that never comes and kill it after 30 s (error 1053). This host speaks
 * the protocol and runs `lifeline-agent.exe service` (beside it) as its child:
 *
 *  - RUNNING is reported as soon as the agent process exists, so SCM never waits on Node's start-up.
 *  - Each run of the agent, and everything it starts, lives in a job object of its own that kills
 *    them all when it is closed (or the host ends), so no session host outlives its agent.
 *  - SERVICE_CONTROL_STOP / SHUTDOWN: the agent's stdin (a pipe) is closed, which it takes as its
 *    signal to say goodbye to the control plane and exit; after STOP_GRACE_MS the job is ended.
 *  - An agent that exits by itself is started again after RESTART_DELAY_MS, except with exit status
 *    78 (the server refused the device's identity), where the service stops with that status.
 *  - The data directory (credentials, work directory) is the first argument, passed on to the agent
 *    as `--data-dir`: the service's environment need not name the same ProgramData as the
 *    installer's did (under Wine it does not). The agent's output (JSON lines) is appended to
 *    `<data directory>\agent.log`.
 *
 * Usage (the service's command line, written by `lifeline-agent install`):
 *   lifeline-service.exe "C:\ProgramData\Lifeline"
 * The agent also runs it for what concerns the user at the console (user-session.c):
 *   lifeline-service.exe console-user | run-in-session LINE | notify TITLE TEXT
 * and for the presence proof's permissions (file-security.c):
 *   lifeline-service.exe protect PATH | security PATH
 * Built with Debian's gcc-mingw-w64-x86-64 by build/agent/service-host.ts.
 */
#include "file-security.h"
#include "user-session.h"

#include <shellapi.h>

#define SERVICE_NAME L"Lifeline"
#define AGENT_FILE L"lifeline-agent.exe"
/* How long the agent has to close its connection after a stop, in ms (SCM's default wait is 20 s). */
#define STOP_GRACE_MS 10000
/* Pause before starting an agent that exited by itself again, in ms (systemd's RestartSec=5). */
#define RESTART_DELAY_MS 5000
/* The agent's exit status when the control plane refused its identity (EXIT_IDENTITY_REFUSED). */
#define EXIT_IDENTITY_REFUSED 78

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static HANDLE stop_event;
static wchar_t data_dir[MAX_PATH];
static wchar_t log_path[MAX_PATH + 16];

static void report(DWORD state, DWORD exit_code, DWORD wait_hint) {
  static DWORD check_point = 1;
  status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  status.dwCurrentState = state;
  status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  if (exit_code != 0) {
    status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
    status.dwServiceSpecificExitCode = exit_code;
  } else {
    status.dwWin32ExitCode = NO_ERROR;
    status.dwServiceSpecificExitCode = 0;
  }
  status.dwWaitHint = wait_hint;
  status.dwCheckPoint =
      state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : check_point++;
  SetServiceStatus(status_handle, &status);
}

static DWORD WINAPI control(DWORD code, DWORD type, LPVOID data, LPVOID context) {
  (void)type;
  (void)data;
  (void)context;
  switch (code) {
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_SHUTDOWN:
    report(SERVICE_STOP_PENDING, 0, STOP_GRACE_MS + 5000);
    SetEvent(stop_event);
    return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE:
    return NO_ERROR;
  default:
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

/* The log file, opened for appending and inheritable by the agent; INVALID_HANDLE_VALUE if it cannot be. */
static HANDLE open_log(void) {
  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  return CreateFileW(log_path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                     &inherit, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
}

/* A job object that kills every process in it when its last handle is closed; NULL if none can be made. */
static HANDLE new_job(void) {
  HANDLE job = CreateJobObjectW(NULL, NULL);
  if (!job) return NULL;
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  return job;
}

/*
 * Starts `"<this folder>\lifeline-agent.exe" service` in `job`, its stdin the read end of a pipe
 * whose write end goes to *stdin_write. Returns the process handle, or NULL.
 */
static HANDLE start_agent(HANDLE job, HANDLE *stdin_write) {
  wchar_t self[MAX_PATH * 2];
  DWORD length = GetModuleFileNameW(NULL, self, MAX_PATH * 2);
  if (length == 0 || length >= MAX_PATH * 2) return NULL;
  wchar_t *slash = wcsrchr(self, L'\\');
  if (!slash) return NULL;
  slash[1] = L'\0';
  wchar_t agent[MAX_PATH * 2 + 32];
  wchar_t command_line[MAX_PATH * 3 + 64];
  _snwprintf(agent, sizeof agent / sizeof *agent, L"%ls%ls", self, AGENT_FILE);
  _snwprintf(command_line, sizeof command_line / sizeof *command_line, L"\"%ls\" service --data-dir \"%ls\"", agent,
             data_dir);

  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  HANDLE read_end, write_end;
  if (!CreatePipe(&read_end, &write_end, &inherit, 0)) return NULL;
  SetHandleInformation(write_end, HANDLE_FLAG_INHERIT, 0);
  HANDLE log = open_log();

  STARTUPINFOW startup = {0};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = read_end;
  startup.hStdOutput = log;
  startup.hStdError = log;
  PROCESS_INFORMATION process = {0};
  BOOL started = CreateProcessW(agent, command_line, NULL, NULL, TRUE,
                                CREATE_SUSPENDED | CREATE_NO_WINDOW, NULL, self, &startup, &process);
  CloseHandle(read_end);
  if (log != INVALID_HANDLE_VALUE) CloseHandle(log);
  if (!started) {
    CloseHandle(write_end);
    return NULL;
  }
  // In the job before it runs a single instruction, so nothing it starts can escape the job.
  AssignProcessToJobObject(job, process.hProcess);
  ResumeThread(process.hThread);
  CloseHandle(process.hThread);
  *stdin_write = write_end;
  return process.hProcess;
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv) {
  (void)argc;
  (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(SERVICE_NAME, control, NULL);
  if (!status_handle) return;
  report(SERVICE_START_PENDING, 0, 5000);
  stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);

  DWORD exit_code = 0;
  BOOL running_reported = FALSE;
  for (;;) {
    HANDLE stdin_write = NULL;
    HANDLE job = new_job();
    HANDLE agent = job ? start_agent(job, &stdin_write) : NULL;
    if (!agent) {
      exit_code = GetLastError() ? GetLastError() : 1;
      if (job) CloseHandle(job);
      break;
    }
    if (!running_reported) {
      report(SERVICE_RUNNING, 0, 0);
      running_reported = TRUE;
    }
    HANDLE waits[2] = {agent, stop_event};
    DWORD woken = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
    if (woken == WAIT_OBJECT_0 + 1) {
      // Stop: the agent's stdin ends, it closes its connection and exits; then the job ends the rest.
      CloseHandle(stdin_write);
      WaitForSingleObject(agent, STOP_GRACE_MS);
      TerminateJobObject(job, 0);
      CloseHandle(job);
      CloseHandle(agent);
      break;
    }
    CloseHandle(stdin_write);
    DWORD agent_exit = 1;
    GetExitCodeProcess(agent, &agent_exit);
    CloseHandle(agent);
    // Whatever the agent started (session hosts) ends with it.
    TerminateJobObject(job, 0);
    CloseHandle(job);
    if (agent_exit == EXIT_IDENTITY_REFUSED) {
      exit_code = EXIT_IDENTITY_REFUSED;
      break;
    }
    if (WaitForSingleObject(stop_event, RESTART_DELAY_MS) == WAIT_OBJECT_0) break;
  }
  report(SERVICE_STOPPED, exit_code, 0);
}

int wmain(void) {
  int argc = 0;
  LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (!argv || argc < 2 || wcslen(argv[1]) >= MAX_PATH) return 2;
  int user_command = run_user_command(argc, argv);
  if (user_command >= 0) return user_command;
  int file_command = run_file_command(argc, argv);
  if (file_command >= 0) return file_command;
  wcscpy(data_dir, argv[1]);
  _snwprintf(log_path, sizeof log_path / sizeof *log_path, L"%ls\\agent.log", data_dir);
  SERVICE_TABLE_ENTRYW table[] = {{(LPWSTR)SERVICE_NAME, service_main}, {NULL, NULL}};
  // Fails at once (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) when not started by SCM.
  return StartServiceCtrlDispatcherW(table) ? 0 : (int)GetLastError();
}
