/**
 * A credentials file (htpasswd, htdigest) read once at start-up, where a bad line is a start-up error with
 * its line number, and read again when it changes.
 *
 * Changes are noticed by `stat()` on use, at most once per `checkInterval`: unlike `fs.watch`, this survives
 * editors and tools that replace the file (a new inode) and needs no watcher to close. A bad or missing file
 * at run time keeps the previous contents and logs why, so a half-written edit never locks everyone out.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { WsgateError, type Logger } from '@wsgate/core';

/** A problem on one line of a credentials file. */
export interface LineProblem {
  readonly line: number;
  readonly message: string;
}

/** A file's parse: what it holds, and what was wrong with it. */
export interface Parsed<T> {
  readonly value: T;
  readonly problems: readonly LineProblem[];
}

export class CredentialsFile<T> {
  readonly file: string;
  private value: T;
  private signature: string;
  private nextCheck: number;
  private checking: Promise<void> | undefined;

  /**
   * Reads and parses the file now.
   * @param where the option that named the file, for messages (`basicAuth().file`).
   * @throws {WsgateError} `WSGATE_CREDENTIALS_FILE` when it cannot be read or has bad lines (all listed).
   */
  constructor(
    private readonly where: string,
    file: string,
    private readonly parse: (text: string) => Parsed<T>,
    private readonly checkIntervalMs = 1000,
  ) {
    this.file = path.resolve(file);
    let text: string;
    let stats: Stats;
    try {
      stats = statSync(this.file);
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new WsgateError('WSGATE_CREDENTIALS_FILE', `${where}: cannot read ${this.file} (${code}): check the path and its permissions`, { cause: err });
    }
    const parsed = parse(text);
    if (parsed.problems.length > 0) throw new WsgateError('WSGATE_CREDENTIALS_FILE', `${where}: ${this.file}: ${describe(parsed.problems)}`);
    this.value = parsed.value;
    this.signature = signatureOf(stats);
    this.nextCheck = Date.now() + checkIntervalMs;
  }

  /** The contents, re-read first if the file changed since the last look (looked at most once per interval). */
  async current(log: Logger): Promise<T> {
    if (Date.now() >= this.nextCheck) {
      this.checking ??= this.reloadIfChanged(log).finally(() => {
        this.checking = undefined;
        this.nextCheck = Date.now() + this.checkIntervalMs;
      });
      await this.checking;
    }
    return this.value;
  }

  private async reloadIfChanged(log: Logger): Promise<void> {
    let signature: string;
    let text: string;
    try {
      const stats = await stat(this.file);
      signature = signatureOf(stats);
      if (signature === this.signature) return;
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if (this.signature !== 'missing') log.warn({ file: this.file, err }, `${this.where}: cannot read the file; keeping what was read before`);
      this.signature = 'missing';
      return;
    }
    this.signature = signature;
    const parsed = this.parse(text);
    if (parsed.problems.length > 0) {
      log.warn({ file: this.file, problems: describe(parsed.problems) }, `${this.where}: the file changed and has bad lines; keeping what was read before`);
      return;
    }
    this.value = parsed.value;
    log.info({ file: this.file }, `${this.where}: file re-read`);
  }
}

/** Inode, size and times: a replaced file has a new inode, an edited one a new mtime or size. */
function signatureOf(s: Stats): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
}

function describe(problems: readonly LineProblem[]): string {
  return problems.map((p) => `line ${p.line}: ${p.message}`).join('; ');
}

/**
 * The lines of a `name:field…` file worth reading, numbered from 1: blank lines and `#` comments skipped,
 * a trailing CR (a file written on Windows) dropped.
 */
export function contentLines(text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    out.push({ line: i + 1, text: line });
  });
  return out;
}
