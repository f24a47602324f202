/**
 * A log file the gateway appends to (the access log, `log.file`): the error a start gives when it cannot be
 * opened, naming the config field and the fix, and the same check made without creating the file.
 */
import { access, constants, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WsgateError } from '../errors.js';

/** What a start would say of `file`, found without creating it (`wsgate check`). */
export async function checkLogFilePath(field: string, file: string): Promise<void> {
  try {
    const found = await stat(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)));
    if (found?.isDirectory()) throw Object.assign(new Error(`${file} is a folder`), { code: 'EISDIR' });
    await access(found ? file : dirname(file), constants.W_OK);
  } catch (err) {
    throw logFileError(field, file, err);
  }
}

/** `WSGATE_LOG_FILE` for a log file that cannot be opened: the field, the path, the errno and the fix. */
export function logFileError(field: string, file: string, err: unknown): WsgateError {
  const code = (err as NodeJS.ErrnoException).code ?? String(err);
  return new WsgateError('WSGATE_LOG_FILE', `${field}: cannot open ${file} (${code}): ${fixFor(code, field, file)}`, { cause: err });
}

function fixFor(code: string, field: string, file: string): string {
  const dir = dirname(file);
  if (code === 'ENOENT') return `make the folder ${dir}, or change ${field}`;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return `let the gateway's user write to ${file} and ${dir}, or change ${field}`;
  if (code === 'EISDIR') return 'that is a folder: give the path of a file in it';
  if (code === 'ENOTDIR') return `a part of ${dir} is a file, not a folder: change ${field}`;
  return `check the path and its permissions, or change ${field}`;
}
