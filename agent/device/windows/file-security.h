/* The service host's sub-commands about a file's security descriptor (file-security.c). */
#ifndef LIFELINE_FILE_SECURITY_H
#define LIFELINE_FILE_SECURITY_H
#include "user-session.h"

/* Runs the sub-command argv[1] (protect, security) on argv[2]; its exit status, or -1 when it names none. */
int run_file_command(int argc, wchar_t **argv);
#endif
