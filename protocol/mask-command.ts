import {
  ASSIGNMENT,
  AUTHORIZATION,
  GENERIC_SECRET_SHORT,
  HEADER_OPTIONS,
  PRINTERS,
  PROGRAMS,
  type ProgramRule,
  SECRET_NAME_ENDINGS,
  SECRET_NAMES,
  SECRET_VARIABLE,
  SETTERS,
  USER_OPTIONS,
  WITH_SUBCOMMANDS,
  WRAPPERS,
} from './command-secrets.ts';
import { type CommandWord, type SimpleCommand, splitCommandLine } from './command-words.ts';

/** What a masked value is replaced with. */
export const MASK = '***';

/** A range of the line to replace with the mask. */
type Range = [start: number, end: number];

/**
 * Masks the secrets in a command line so it can be stored (audit log, server log, recordings) and
 * shown: values of options named like a secret (`--password x`, `--api-key=x`, `-px`, `/pass:x`), of
 * `-p`, `-k` and `-cp` unless the program means something else by them, `user:password` in URLs and
 * after `-u`, values assigned to names like a secret (`MYSQL_PWD=x cmd`, `export API_KEY=x`,
 * `$env:TOKEN = "x"`, `setx`, `git config user.password x`), Authorization headers, secret-named JSON
 * members and query parameters, `net user`, `htpasswd -b`, `ConvertTo-SecureString`, what is fed to
 * `sudo -S` or `--password-stdin`, and all of it inside `sh -c '…'`. Everything else is kept as typed.
 * The vocabulary is in command-secrets.ts; what is deliberately kept is in tests/protocol/.
 * @example
 * maskCommand('mysql -u root -phunter2 shop') // 'mysql -u root -p*** shop'
 * maskCommand('mkdir -p /srv/app')           // unchanged: mkdir's -p takes no value
 */
export function maskCommand(line: string): string {
  return applyMasks(line, secretRanges(line));
}

/** Every range of the line that holds a secret, by every rule; they may overlap. */
function secretRanges(line: string): Range[] {
  const ranges: Range[] = [];
  const commands = splitCommandLine(line);
  for (const command of commands) {
    ranges.push(...maskSimpleCommand(line, command));
    for (const word of command.words) ranges.push(...maskQuotedCommand(line, word));
  }
  ranges.push(...maskPipedSecrets(commands));
  ranges.push(...maskInText(line));
  return ranges;
}

/**
 * A command inside a quoted word (`sh -c "mysql -px"`, `cmd /c "…"`, `ssh host '…'`) is masked by
 * the same rules; where its quoting cannot be mapped back, the whole word is.
 */
function maskQuotedCommand(line: string, word: CommandWord): Range[] {
  const typed = line.slice(word.start, word.end);
  // `KEY="a b"` and `-p"a b"` are one value, masked by the rules above; `"mysql -px"` is a command.
  if (!/\s/.test(word.text) || !/^["']/.test(typed)) return [];
  const inner = secretRanges(word.text);
  if (inner.length === 0) return [];
  const quoted = typed.length >= 2 && typed.endsWith(typed[0]!);
  if (!quoted || typed.slice(1, -1) !== word.text) return [[word.start, word.end]];
  return inner.map(([start, end]): Range => [word.start + 1 + start, word.start + 1 + end]);
}

/** Whether `name` (an option without its dashes or slash) takes a secret value for `rule`. */
function isSecretOption(name: string, rule: ProgramRule | undefined): boolean {
  if (rule?.secret?.includes(name) || rule?.secret?.includes(name.toLowerCase())) return true;
  if (GENERIC_SECRET_SHORT.has(name)) return !rule?.harmless?.includes(name);
  if (name.length < 2) return false;
  const lower = name.toLowerCase();
  if (SECRET_NAMES.has(lower)) return true;
  const parts = name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .split(/[-_.]+/)
    .filter(Boolean);
  // `--no-password` is a flag; it takes no value.
  if (parts[0] === 'no') return false;
  return SECRET_NAME_ENDINGS.has(parts.at(-1) ?? '');
}

/** Whether a word is an option whose value is a secret (`--token`, `-p`, `/pass:x`). */
function isSecretOptionWord(text: string, rule: ProgramRule | undefined): boolean {
  const option = /^(--?)([A-Za-z][\w-]*)(=|$)/.exec(text);
  return option !== null && isSecretOption(option[2]!, rule);
}

function isUserOption(name: string, rule: ProgramRule | undefined): boolean {
  return USER_OPTIONS.has(name) || (rule?.user?.includes(name) ?? false);
}

/** The range from just past `marker` (its first occurrence in the word as typed) to the word's end. */
function after(line: string, word: CommandWord, marker: string): Range {
  const at = line.slice(word.start, word.end).indexOf(marker);
  return at < 0 ? [word.start, word.end] : [word.start + at + marker.length, word.end];
}

/** The password part of `user:password` (or `user%password`) in a word; none when there is none. */
function passwordOf(line: string, word: CommandWord, from: number): Range[] {
  const typed = line.slice(from, word.end);
  const at = typed.search(/[:%]/);
  return at < 0 ? [] : [[from + at + 1, word.end]];
}

/** The program a word names, as PROGRAMS keys it: `mysql` for `/usr/bin/mysql`, `docker login`. */
function programKey(words: CommandWord[], index: number): string {
  const base = (words[index]?.text.split(/[\\/]/).at(-1) ?? '').toLowerCase().replace(/\.exe$/, '');
  const sub = words[index + 1]?.text.toLowerCase();
  return WITH_SUBCOMMANDS.has(base) && PROGRAMS[`${base} ${sub}`] ? `${base} ${sub}` : base;
}

/** The secrets among one simple command's words, walked left to right with what each word implies. */
function maskSimpleCommand(line: string, { words }: SimpleCommand): Range[] {
  const ranges: Range[] = [];
  let program: string | undefined;
  let pending: 'secret' | 'user' | 'header' | undefined;
  let optionsEnded = false;
  let setting: 'name' | 'value' | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const text = word.text;
    if (pending) {
      const value = pending;
      pending = undefined;
      // A flag named like a secret option (`--with-token`) takes no value: a secret option after it
      // is that option, not its value. Any other word after it is masked, even one that starts with -.
      if (!(value === 'secret' && isSecretOptionWord(text, PROGRAMS[program ?? '']))) {
        if (value === 'secret') ranges.push([word.start, word.end]);
        else if (value === 'user') ranges.push(...passwordOf(line, word, word.start));
        else ranges.push(...headerValue(line, word, word.start));
        continue;
      }
    }
    const assignment = ASSIGNMENT.exec(text);
    // `su -c 'API_KEY=x run'` is a command in quotes, masked as one (maskQuotedCommand).
    const quotedCommand = /^["']/.test(line.slice(word.start, word.end)) && /\s/.test(text);
    if (assignment && !quotedCommand) {
      if (SECRET_VARIABLE.test(assignment[2]!)) ranges.push(after(line, word, '='));
      continue;
    }
    // PowerShell with spaces: `$env:API_KEY = "x"`, `$password = "x"`.
    if (/^\$(env:)?\w+$/i.test(text) && words[i + 1]?.text === '=') {
      const value = words[i + 2];
      if (value && SECRET_VARIABLE.test(text)) ranges.push([value.start, value.end]);
      i += 2;
      continue;
    }
    // `/p` and `/user:bob` are Windows options; `/etc/passwd` and `//registry/` are paths.
    const isOption = /^-./.test(text) || /^\/[A-Za-z][\w-]*(?::|$)/.test(text);
    // `setx API_KEY x`, `aws configure set aws_secret_access_key x`, `git config user.password x`.
    if (!isOption && setting !== undefined) {
      if (setting === 'value') ranges.push([word.start, word.end]);
      if (setting === 'name' && SETTERS.has(text.toLowerCase())) continue; // `config set NAME VALUE`
      setting = setting === 'name' && SECRET_VARIABLE.test(text) ? 'value' : undefined;
      continue;
    }
    if (SETTERS.has(text.toLowerCase())) setting = 'name';
    // The program whose options follow: the first word, a known program named later (`sudo mysql`),
    // or any word after a wrapper (`ssh -p 22 host tool -p x` judges `-p x` as an unknown tool's).
    const key = programKey(words, i);
    if (!isOption && (program === undefined || PROGRAMS[key] || WRAPPERS.has(program))) {
      program = key;
      ranges.push(...maskPositional(program, words, i));
      if (program.includes(' ')) i++;
      continue;
    }
    if (text === '--') optionsEnded = true;
    if (optionsEnded || !isOption) continue;
    const rule = PROGRAMS[program ?? ''];
    const option = /^(--?|\/)([A-Za-z][\w-]*)([=:]?)/.exec(text);
    if (!option) continue;
    const [prefix, dashes, name, joiner] = option as unknown as [string, string, string, string];
    const attached = text.slice(prefix.length);
    // Windows options take a value after a colon (`/p:x`); `/p` alone is a flag, except where listed.
    if (dashes === '/' && !joiner && !rule?.secret?.includes(name.toLowerCase())) continue;
    // `-ubob:pw`: a letter and its attached value, not a name and a colon.
    if (dashes === '-' && joiner === ':') {
      ranges.push(...maskAttached(line, word, rule));
      continue;
    }
    if (dashes === '--' && joiner === ':') continue;
    const secret = isSecretOption(name, rule);
    const user = dashes !== '/' && isUserOption(name, rule);
    const header = dashes !== '/' && HEADER_OPTIONS.has(name);
    if (joiner) {
      const [from] = after(line, word, prefix);
      if (secret) ranges.push([from, word.end]);
      else if (user) ranges.push(...passwordOf(line, word, from));
      else if (header) ranges.push(...headerValue(line, word, from));
      else ranges.push(...maskNestedAssignment(line, word, from));
    } else if (attached === '' && secret) pending = 'secret';
    else if (attached === '' && user) pending = 'user';
    else if (attached === '' && header) pending = 'header';
    else if (dashes === '-') ranges.push(...maskAttached(line, word, rule));
  }
  return ranges;
}

/** The value of a header named like a secret (`Authorization`, `X-Api-Key`, `PRIVATE-TOKEN`). */
function headerValue(line: string, word: CommandWord, from: number): Range[] {
  const typed = line.slice(from, word.end);
  const header = /^(["']?)\s*([\w-]+)\s*:\s*/.exec(typed);
  if (!header || !(/authorization|cookie/i.test(header[2]!) || SECRET_VARIABLE.test(header[2]!))) return [];
  const quote = header[1]!;
  const end = quote && typed.length > header[0].length && typed.endsWith(quote) ? word.end - 1 : word.end;
  return [[from + header[0].length, end]];
}

/** `-pX`, `-kX` (the value attached), and `-uuser:password`. */
function maskAttached(line: string, word: CommandWord, rule: ProgramRule | undefined): Range[] {
  const letter = word.text[1] ?? '';
  if (word.text.length <= 2) return [];
  if (isSecretOption(letter, rule)) return [after(line, word, `-${letter}`)];
  if (isUserOption(letter, rule)) return passwordOf(line, word, after(line, word, `-${letter}`)[0]);
  return [];
}

/** `--env=API_KEY=x`, `--build-arg=TOKEN=x`: an assignment as an option's value. */
function maskNestedAssignment(line: string, word: CommandWord, from: number): Range[] {
  const typed = line.slice(from, word.end);
  const assignment = ASSIGNMENT.exec(typed.replace(/^["']/, ''));
  if (!assignment || !SECRET_VARIABLE.test(assignment[2]!)) return [];
  const equals = typed.indexOf('=');
  return [[equals < 0 ? from : from + equals + 1, word.end]];
}

/** Programs whose positional arguments hold a secret. */
function maskPositional(program: string, words: CommandWord[], at: number): Range[] {
  const args = words.slice(at + (program.includes(' ') ? 2 : 1)).filter((w) => !/^[-/]/.test(w.text));
  const range = (word: CommandWord | undefined): Range[] =>
    word && word.text !== '*' ? [[word.start, word.end]] : [];
  switch (program) {
    case 'net user': // net user bob Secr3t /add
    case 'net use': // net use \\server\share Secr3t /user:bob
      return range(args[1]);
    case 'htpasswd': // htpasswd -b[c] FILE USER PASSWORD: the password only with -b
      return words.some((w) => /^-[a-zA-Z]*b/.test(w.text)) ? range(args.at(-1)) : [];
    case 'convertto-securestring': // ConvertTo-SecureString "pw" -AsPlainText -Force
      return range(words[at + 1]?.text.startsWith('-') ? undefined : words[at + 1]);
    default:
      return [];
  }
}

/** Whether a command reads a secret from its standard input. */
function readsSecretFromStdin({ words }: SimpleCommand): boolean {
  const texts = words.map((word) => word.text);
  const program = programKey(words, 0);
  if (program === 'chpasswd') return true;
  if (texts.some((text) => /^--(password|passphrase)-stdin$/i.test(text))) return true;
  if (program === 'passwd' && texts.includes('--stdin')) return true;
  return program === 'sudo' && texts.some((text) => text === '-S' || text === '--stdin');
}

/** `echo pw | sudo -S …`, `echo $TOKEN | docker login --password-stdin`: what is printed is masked. */
function maskPipedSecrets(commands: SimpleCommand[]): Range[] {
  const ranges: Range[] = [];
  let pipeline: SimpleCommand[] = [];
  for (const command of commands) {
    pipeline.push(command);
    if (command.separator === '|') continue;
    // `sudo -S <<< pw cmd`, `chpasswd <<< bob:pw`: a here-string fed to a command that reads a secret.
    if (readsSecretFromStdin(command)) {
      const at = command.words.findIndex((word) => word.text === '<<<');
      const fed = command.words[at + 1];
      if (at >= 0 && fed) ranges.push([fed.start, fed.end]);
    }
    if (pipeline.slice(1).some(readsSecretFromStdin)) {
      for (const printer of pipeline) {
        const args = printer.words.slice(1);
        if (!PRINTERS.has(programKey(printer.words, 0)) || args.length === 0) continue;
        ranges.push([args[0]!.start, args.at(-1)!.end]);
      }
    }
    pipeline = [];
  }
  return ranges;
}

/**
 * Secrets found by their shape anywhere in the line: the password in `scheme://user:password@host`
 * (the whole user part when it is not a plain user name, e.g. `https://ghp_token@github.com`),
 * query parameters (`?access_token=x`) and JSON members (`"password": "x"`) named like a secret.
 */
function maskInText(line: string): Range[] {
  const ranges: Range[] = [];
  for (const match of line.matchAll(/(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/([^\s/?#'"]*)@/gi)) {
    const userinfo = match[1]!;
    const start = match.index + match[0].length - 1 - userinfo.length;
    const colon = userinfo.indexOf(':');
    if (colon >= 0) ranges.push([start + colon + 1, start + userinfo.length]);
    else if (!/^[A-Za-z_][\w.-]{0,31}$/.test(userinfo)) ranges.push([start, start + userinfo.length]);
  }
  for (const match of line.matchAll(AUTHORIZATION)) {
    const end = match.index + match[0].length;
    ranges.push([end - match[1]!.length, end]);
  }
  for (const match of line.matchAll(/[?&]([\w.-]+)=([^&\s'"#]*)/g)) {
    if (!SECRET_VARIABLE.test(match[1]!)) continue;
    const end = match.index + match[0].length;
    ranges.push([end - match[2]!.length, end]);
  }
  for (const match of line.matchAll(/"([\w.-]+)"\s*:\s*"((?:[^"\\]|\\.)*)"/g)) {
    if (!SECRET_VARIABLE.test(match[1]!)) continue;
    const end = match.index + match[0].length - 1;
    ranges.push([end - match[2]!.length, end]);
  }
  return ranges;
}

/** Replaces each range (merged where they overlap) with the mask. */
function applyMasks(line: string, ranges: Range[]): string {
  const sorted = ranges.filter(([start, end]) => end > start).sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end] of sorted) {
    if (end <= at) continue;
    out += `${line.slice(at, Math.max(at, start))}${MASK}`;
    at = end;
  }
  return out + line.slice(at);
}
