/**
 * Where the CLI writes: whole lines to stdout (results, notes, warnings) and stderr (errors), and raw text to
 * stdout (a sample streamed token by token, a progress bar redrawn in place). Every command writes through
 * one; the process's streams by default, and a test passes its own and reads what was written.
 */
export interface Sink {
  /** One line to stdout. */
  out(line: string): void;
  /** One line to stderr. */
  err(line: string): void;
  /** Text to stdout as it is, no newline added. */
  write(text: string): void;
  /** Whether stdout is a terminal: a progress bar redraws in place there, and prints plain lines elsewhere. */
  readonly tty: boolean;
}

/** The process's stdout and stderr (a lost terminal or a closed pipe is handled in main.ts). */
export const processSink: Sink = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  write: (text) => void process.stdout.write(text),
  get tty() {
    return Boolean(process.stdout.isTTY);
  },
};
