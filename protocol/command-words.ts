/** One word of a command line: where it is in the line, and its text with quotes and escapes removed. */
export interface CommandWord {
  /** Offset of its first character in the line. */
  start: number;
  /** Offset just past its last character. */
  end: number;
  /** What the shell passes on: `'a b'` and `a\ b` are both `a b`. */
  text: string;
}

/** A simple command: its words, and what ended it (`|`, `;`, `&&`, a newline…; '' at the end of the line). */
export interface SimpleCommand {
  words: CommandWord[];
  separator: string;
}

const SEPARATOR_CHARS = new Set([';', '|', '&', '(', ')', '\n', '\r', '`']);
const SPACE = /\s/;

/**
 * Splits a command line into simple commands and words, as POSIX shells quote: `'…'` literally,
 * `"…"` and unquoted text with backslash escapes. It never fails: an unterminated quote runs to the
 * end of the line. Good enough to find arguments (cmd.exe and PowerShell quote with `"` too); it is
 * not a shell parser and does not expand anything.
 * @example
 * splitCommandLine(`MYSQL_PWD='a b' mysql; ls`)
 * // [{ words: [MYSQL_PWD=a b, mysql], separator: ';' }, { words: [ls], separator: '' }]
 */
export function splitCommandLine(line: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: CommandWord[] = [];
  let word: CommandWord | undefined;
  let i = 0;
  const endWord = () => {
    if (word) words.push(word);
    word = undefined;
  };
  while (i < line.length) {
    const char = line[i]!;
    if (SPACE.test(char) && char !== '\n' && char !== '\r') {
      endWord();
      i++;
      continue;
    }
    if (SEPARATOR_CHARS.has(char)) {
      endWord();
      let separator = char;
      // `&&` and `||` are one separator; `|` alone joins a pipeline.
      if ((char === '&' || char === '|') && line[i + 1] === char) separator += char;
      commands.push({ words, separator });
      words = [];
      i += separator.length;
      continue;
    }
    word ??= { start: i, end: i, text: '' };
    if (char === "'") {
      const close = line.indexOf("'", i + 1);
      const stop = close < 0 ? line.length : close;
      word.text += line.slice(i + 1, stop);
      i = close < 0 ? line.length : close + 1;
    } else if (char === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) i++;
        word.text += line[i];
        i++;
      }
      i++;
    } else if (char === '\\' && i + 1 < line.length) {
      word.text += line[i + 1];
      i += 2;
    } else {
      word.text += char;
      i++;
    }
    word.end = Math.min(i, line.length);
  }
  endWord();
  commands.push({ words, separator: '' });
  return commands.filter((command) => command.words.length > 0 || command.separator !== '');
}
