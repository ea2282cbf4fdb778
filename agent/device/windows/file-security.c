/*
 * The service host's sub-commands about a file's security descriptor (lifeline-service.exe …), for
 * the presence proof (presence.ts), which every local user must be able to read and only the
 * service may write:
 *
 *   protect PATH    gives PATH its own descriptor, inheriting nothing from its folder: owned by
 *                   Administrators; SYSTEM and Administrators full control, Users read. Exit 0 when set.
 *   security PATH   prints one JSON line: {"owner":"S-…","writers":["S-…",…]}, the owner's SID and the
 *                   SID of every allowing entry with a right to change the file (write, append,
 *                   delete, change its permissions or owner); "S-1-1-0" (Everyone) when it has no
 *                   list at all. Exit 1 when it cannot be read.
 */
#include "file-security.h"

#include <aclapi.h>
#include <sddl.h>

/* Owner Administrators; protected list: SYSTEM and Administrators full control, Users read. */
#define PROTECTED_SDDL L"O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;BU)"
/* Every right that lets its holder change what the file says, or who may. */
#define CHANGE_RIGHTS \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL)

static int protect(const wchar_t *path) {
  PSECURITY_DESCRIPTOR descriptor = NULL;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(PROTECTED_SDDL, SDDL_REVISION_1, &descriptor, NULL))
    return 1;
  PSID owner = NULL;
  PACL dacl = NULL;
  BOOL defaulted = FALSE, present = FALSE;
  GetSecurityDescriptorOwner(descriptor, &owner, &defaulted);
  GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted);
  DWORD error = SetNamedSecurityInfoW((LPWSTR)path, SE_FILE_OBJECT,
                                      OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION |
                                          PROTECTED_DACL_SECURITY_INFORMATION,
                                      owner, NULL, dacl, NULL);
  LocalFree(descriptor);
  return error == ERROR_SUCCESS ? 0 : 1;
}

/* Prints `sid` as a JSON string ("?" when it cannot be converted). */
static void print_sid(PSID sid) {
  LPWSTR text = NULL;
  if (sid && ConvertSidToStringSidW(sid, &text)) {
    wprintf(L"\"%ls\"", text);
    LocalFree(text);
  } else {
    wprintf(L"\"?\"");
  }
}

static int security(const wchar_t *path) {
  PSID owner = NULL;
  PACL dacl = NULL;
  PSECURITY_DESCRIPTOR descriptor = NULL;
  if (GetNamedSecurityInfoW(path, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                            NULL, &dacl, NULL, &descriptor) != ERROR_SUCCESS)
    return 1;
  wprintf(L"{\"owner\":");
  print_sid(owner);
  wprintf(L",\"writers\":[");
  if (!dacl) {
    wprintf(L"\"S-1-1-0\"");
  } else {
    BOOL first = TRUE;
    for (DWORD i = 0; i < dacl->AceCount; i++) {
      ACCESS_ALLOWED_ACE *ace = NULL;
      if (!GetAce(dacl, i, (void **)&ace) || ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE) continue;
      if (ace->Header.AceFlags & INHERIT_ONLY_ACE || !(ace->Mask & CHANGE_RIGHTS)) continue;
      if (!first) putwchar(L',');
      first = FALSE;
      print_sid(&ace->SidStart);
    }
  }
  wprintf(L"]}\n");
  fflush(stdout);
  LocalFree(descriptor);
  return 0;
}

int run_file_command(int argc, wchar_t **argv) {
  if (argc != 3) return -1;
  if (wcscmp(argv[1], L"protect") == 0) return protect(argv[2]);
  if (wcscmp(argv[1], L"security") == 0) return security(argv[2]);
  return -1;
}
