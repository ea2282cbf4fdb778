/* The service host's sub-commands about the user at the console (user-session.c). */
#ifndef LIFELINE_USER_SESSION_H
#define LIFELINE_USER_SESSION_H
#define WIN32_LEAN_AND_MEAN
#ifndef UNICODE
#define UNICODE
#endif
#ifndef _UNICODE
#define _UNICODE
#endif
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

/*
 * Runs the sub-command argv[1] (console-user, run-in-session, notify, message-box) with its
 * arguments; its exit status, or -1 when argv names none of them (or with the wrong arguments).
 */
int run_user_command(int argc, wchar_t **argv);
#endif
