import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { UserError } from './errors.js';
import { formatBytes } from './format.js';

/**
 * Files a user names are read through here, whatever they hold (a layer zip, a runtime manifest,
 * yumda.yaml, yumda.lock, a recipe): each must be a regular file, and what is read into memory
 * has a cap. A FIFO would block the open (and with it every signal handler: Ctrl-C and SIGTERM
 * go unanswered), /dev/zero never ends; either is one line instead.
 */

/**
 * The most a document (manifest, lock, runtime manifest, recipe) may hold. The largest real ones
 * are runtime manifests listing every package and library of a runtime: tens of KB; a few MB with
 * whole file lists. Past this it is no such document, and reading it only costs memory.
 */
export const DOCUMENT_BYTES = 16 * 1024 * 1024;

/** What kind of file it is, for a message ("a pipe (FIFO)…"). */
function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a pipe (FIFO), as `<(...)` or a named pipe gives';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function cannotRead(file: string, e: unknown): UserError {
  return new UserError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
}

/**
 * Opens `file` for reading once it is known to be a regular file. The type is checked before the
 * open and again on the descriptor (the name could be swapped in between), and the open itself
 * cannot block (O_NONBLOCK). `what` names what the file should be: "a layer zip or image tarball".
 */
export function openInputFile(file: string, what: string): { fd: number; size: number } {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    throw cannotRead(file, e);
  }
  const refuse = (s: Stats) => new UserError(`${file} is ${kindOf(s)}, not ${what}`, s.isDirectory() ? {} : { hint: 'save it to a file first (e.g. `cat > file`) and give that' });
  if (!st.isFile()) throw refuse(st);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw cannotRead(file, e);
  }
  const now = fstatSync(fd);
  if (!now.isFile()) {
    closeSync(fd);
    throw refuse(now);
  }
  return { fd, size: now.size };
}

/**
 * A user's file, whole, as `openInputFile` checks it, refused past `maxBytes` (by default a
 * document's cap). The size is checked before reading and again while reading: a file may grow,
 * and files of /proc say 0 bytes whatever they hold.
 */
export function readInputFile(file: string, what: string, maxBytes: number = DOCUMENT_BYTES): Buffer {
  const { fd, size } = openInputFile(file, what);
  const tooBig = () =>
    new UserError(`${file} is larger than ${formatBytes(maxBytes)} (${maxBytes} bytes), far more than ${what} holds; refusing to read it`, {
      hint: 'check that the path names the file you meant',
    });
  try {
    if (size > maxBytes) throw tooBig();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw tooBig();
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw cannotRead(file, e);
  } finally {
    closeSync(fd);
  }
}

/** `readInputFile` as UTF-8 text. */
export function readInputText(file: string, what: string, maxBytes?: number): string {
  return readInputFile(file, what, maxBytes).toString('utf8');
}
