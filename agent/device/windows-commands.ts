import { execFile } from 'node:child_process';

/** The most output read from a Windows tool, in bytes. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** A Windows tool's exit and output, decoded (see {@link decodeToolOutput}). */
export interface ToolRun {
  /** The exit status; null when it was killed (timeout). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The text of a Windows tool's output: `wmic` writes UTF-16LE (with or without a byte-order mark)
 * to a pipe, `reg`, `sc` and `tasklist` write 8-bit text; both end lines with CRLF, made `\n` here.
 */
export function decodeToolOutput(bytes: Buffer): string {
  const utf16 =
    (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes.length >= 4 && bytes[1] === 0 && bytes[3] === 0);
  const text = utf16 ? bytes.toString('utf16le') : bytes.toString('utf8');
  return text.replace(/^\uFEFF/, '').replace(/\r+\n/g, '\n');
}

/**
 * Runs a Windows tool with an argument array (never a shell string: Node quotes each argument for
 * the program's own command-line parser) and resolves with its status and output whatever it is;
 * rejects only when the tool could not be started.
 */
export function runTool(command: string, args: readonly string[], timeoutMs: number): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { encoding: 'buffer', maxBuffer: MAX_OUTPUT_BYTES, timeout: timeoutMs, windowsHide: true },
      (error, stdout, stderr) => {
        const failed = error as (NodeJS.ErrnoException & { code?: unknown }) | null;
        if (failed && typeof failed.code === 'string' && failed.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
          return reject(failed);
        resolve({
          status: failed ? (typeof failed.code === 'number' ? failed.code : null) : 0,
          stdout: decodeToolOutput(stdout),
          stderr: decodeToolOutput(stderr),
        });
      },
    );
  });
}

/**
 * The rows of a `wmic path CLASS get A,B,C` table: columns start where their header word starts
 * (values may hold spaces, e.g. "System Idle Process"), each row keyed by the header's names.
 */
export function parseWmicTable(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift();
  if (!header) return [];
  const columns = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], start: m.index }));
  return lines.map((line) => {
    const row: Record<string, string> = {};
    columns.forEach((column, i) => {
      const end = columns[i + 1]?.start ?? line.length;
      row[column.name] = line.slice(column.start, end).trim();
    });
    return row;
  });
}

/** The fields of one CSV line as `tasklist /fo csv` writes it (every field quoted, `""` for a quote). */
export function parseCsvLine(line: string): string[] {
  return [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1]!.replaceAll('""', '"'));
}
