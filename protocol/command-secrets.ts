/**
 * What marks a secret in a command line, for protocol/mask-command.ts: option names, variable names,
 * and the programs whose `-p`, `-k` or `-cp` mean something else (or that take secrets of their own).
 */

/**
 * The last part of an option's name that makes its value a secret: `--password`, `--db-password`,
 * `--api-key`, `-StorePassword`, `--client-secret`, `--install-arguments-sensitive`. Only the last
 * part counts, so `--password-stdin`, `--key-file` and `--token-file` (a flag, a path) are left alone.
 */
export const SECRET_NAME_ENDINGS = new Set([
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'key',
  'apikey',
  'sensitive',
  'certpassword',
]);

/** Whole option names (any case, one or two dashes) whose value is a secret. */
export const SECRET_NAMES = new Set([
  'pass', // openssl -pass, many tools' --pass
  'pw', // PuTTY plink/pscp -pw
  'passin', // openssl
  'passout',
  'storepass', // keytool
  'keypass',
  'srcstorepass',
  'deststorepass',
  'srckeypass',
  'destkeypass',
]);

/**
 * Short options whose value is a secret unless the program is known to mean something else by them
 * (JumpCloud's list): `-p` (mysql, sshpass, 7z…), `-k` (openssl enc…), `-cp`.
 */
export const GENERIC_SECRET_SHORT = new Set(['p', 'k', 'cp']);

/** Options whose value is `user:password` (`curl -u`), or `user%password` for smbclient. */
export const USER_OPTIONS = new Set(['u', 'user', 'proxy-user']);

/** How one program's options differ from the generic rules. */
export interface ProgramRule {
  /** Generic secret short options that mean something harmless here (`mkdir -p`, `curl -k`). */
  harmless?: readonly string[];
  /** More short options whose value is a secret here (`zip -P`, `redis-cli -a`). */
  secret?: readonly string[];
  /** Short options whose value is `user:password` or `user%password` here (`smbclient -U`). */
  user?: readonly string[];
}

const PORT_OR_PID_P: ProgramRule = { harmless: ['p'] };
const FLAG_K: ProgramRule = { harmless: ['k'] };

/**
 * Programs known to use `-p`, `-k` or `-cp` for something that is not a secret, or to take secrets
 * in options of their own. A program not listed gets the generic rules: its `-p`, `-k` and `-cp`
 * values are masked (safe by default). Keys are lower-case basenames without `.exe`, or a program
 * and its subcommand (`docker login`).
 */
export const PROGRAMS: Record<string, ProgramRule> = {
  mkdir: PORT_OR_PID_P, // parents
  ls: { harmless: ['p', 'k'] },
  cp: PORT_OR_PID_P, // preserve
  install: PORT_OR_PID_P,
  tar: { harmless: ['p', 'k'] },
  rsync: PORT_OR_PID_P,
  scp: PORT_OR_PID_P,
  sftp: PORT_OR_PID_P,
  ssh: { harmless: ['p', 'k'] },
  git: PORT_OR_PID_P, // add -p, apply -p1
  patch: PORT_OR_PID_P, // -p1
  diff: PORT_OR_PID_P,
  ps: { harmless: ['p', 'k'] },
  pgrep: PORT_OR_PID_P,
  pkill: PORT_OR_PID_P,
  kill: PORT_OR_PID_P,
  lsof: PORT_OR_PID_P,
  top: PORT_OR_PID_P,
  htop: PORT_OR_PID_P,
  strace: PORT_OR_PID_P,
  gdb: PORT_OR_PID_P,
  renice: PORT_OR_PID_P,
  taskset: PORT_OR_PID_P,
  netstat: PORT_OR_PID_P,
  ss: PORT_OR_PID_P,
  nc: PORT_OR_PID_P,
  ncat: PORT_OR_PID_P,
  nmap: PORT_OR_PID_P,
  iptables: PORT_OR_PID_P,
  journalctl: PORT_OR_PID_P,
  ping: PORT_OR_PID_P,
  traceroute: PORT_OR_PID_P,
  dig: PORT_OR_PID_P,
  read: PORT_OR_PID_P, // prompt
  sudo: PORT_OR_PID_P, // prompt
  xargs: PORT_OR_PID_P,
  psql: PORT_OR_PID_P, // port; the password comes from PGPASSWORD or a prompt
  pg_dump: PORT_OR_PID_P,
  pg_restore: PORT_OR_PID_P,
  perl: PORT_OR_PID_P,
  ruby: PORT_OR_PID_P,
  make: { harmless: ['p', 'k'] },
  curl: { harmless: ['p', 'k'], user: ['U'] }, // proxytunnel, insecure; -U proxy user:password
  wget: { harmless: ['p', 'k'] },
  du: FLAG_K,
  df: FLAG_K,
  sort: FLAG_K, // sort key
  java: { harmless: ['cp'] }, // class path
  javac: { harmless: ['cp'] },
  scala: { harmless: ['cp'] },
  docker: PORT_OR_PID_P, // run -p 8080:80; `docker login -p` is listed below
  podman: PORT_OR_PID_P,
  nerdctl: PORT_OR_PID_P,
  'docker login': {},
  'podman login': {},
  'nerdctl login': {},
  zip: { secret: ['P'] },
  unzip: { secret: ['P'] },
  'ssh-keygen': { harmless: ['p'], secret: ['P', 'N'] }, // -p changes the passphrase; -P old, -N new
  'redis-cli': { harmless: ['p'], secret: ['a'] },
  smbclient: { user: ['U'] },
  schtasks: { secret: ['p', 'rp'] }, // /P and /RP
  sqlcmd: { secret: ['P'] }, // SQL Server: -U user -P password
  bcp: { secret: ['P'] },
  osql: { secret: ['P'] },
  'net user': {}, // net user NAME PASSWORD: see maskPositional
  'net use': {},
  grep: { harmless: ['p', 'k'] }, // grep has neither: the next word is its pattern or a file
};

/** Programs that run another command given as their arguments: a later word may name it. */
export const WRAPPERS = new Set([
  'sudo',
  'doas',
  'ssh',
  'env',
  'nohup',
  'time',
  'nice',
  'timeout',
  'watch',
  'xargs',
]);

/** Options whose value is an HTTP header (`curl -H "Authorization: Bearer x"`). */
export const HEADER_OPTIONS = new Set(['H', 'header', 'proxy-header']);

/** Programs whose first argument names a subcommand with rules of its own. */
export const WITH_SUBCOMMANDS = new Set(['docker', 'podman', 'nerdctl', 'net']);

/**
 * Names of environment variables and settings that hold secrets: PGPASSWORD, MYSQL_PWD, API_KEY,
 * GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, `auth.rootPassword` (helm --set), `$password` (PowerShell).
 * A substring match, on purpose: it masks harmless names like KEYBOARD too, never a secret's.
 */
export const SECRET_VARIABLE = /pass|pwd|token|secret|key|credential/i;

/** `NAME=value`, `$env:NAME=value`, `$name=value`: an assignment, wherever it stands. */
export const ASSIGNMENT = /^(\$(?:env:)?)?([A-Za-z_][\w.-]*)=/;

/** Words after which come a setting's name and its value (`setx NAME VALUE`, `config set NAME VALUE`). */
export const SETTERS = new Set(['set', 'setx', 'setenv', 'config']);

/**
 * `Authorization: Basic x` wherever it stands: `git -c http.extraHeader="Authorization: …"`,
 * PowerShell's `-Headers @{Authorization="Bearer x"}`, JSON.
 */
export const AUTHORIZATION =
  /(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:basic|bearer|token|digest|negotiate|ntlm)\s+)?([^\s'"}]+)/gi;

/** Commands that write their arguments to standard output, for `echo pw | sudo -S …`. */
export const PRINTERS = new Set(['echo', 'printf', 'write-output', 'write-host']);
