import { printable } from './printable.js';

/**
 * An error caused by the user's input or environment, not by a bug: the CLI prints its message as
 * one line (plus an optional hint) and exits non-zero, without a stack trace.
 */
export class UserError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;
  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }

  /** What the --json error object carries besides `error` and `hint`. */
  jsonFields(): Record<string, unknown> {
    return {};
  }
}

/**
 * What the CLI prints for an error, the one way every error reaches the terminal: the message and
 * hint made printable (util/printable.ts), so a name from the command line or from someone's
 * archive can neither clear the screen nor start a second line. A UserError is one line; an
 * internal error (a bug) adds the stack's frames, for the report.
 */
export function errorReport(e: unknown): string {
  if (isUserError(e)) return `yumda: error: ${printable(e.message)}${e.hint ? `; ${printable(e.hint)}` : ''}\n`;
  const frames = ((e as Error)?.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l));
  return `yumda: internal error${whileLine(e)}: ${printable(errorMessage(e))}\n${frames.map((l) => printable(l)).join('\n')}\n`;
}

/**
 * The same error for a program reading --json output: one JSON object on stdout, `error` the
 * message and `hint` what to do, so a CI step that parses stdout sees the failure and not
 * nothing. An error may add fields of its own (`jsonFields`: a not-found's suggestions).
 */
export function errorJson(e: unknown): string {
  const doc = isUserError(e)
    ? { error: e.message, ...(e.hint ? { hint: e.hint } : {}), ...e.jsonFields() }
    : { error: `internal error${whileLine(e)}: ${errorMessage(e)}`, internal: true };
  return JSON.stringify(doc, null, 2) + '\n';
}

const STEP = Symbol('yumda.step');

/**
 * Names the build step an internal error came from, once: the innermost step wins, and the error
 * keeps its class, code and stack (the CLI still turns ENOSPC into its line, an interrupt into its
 * own). A UserError is left as it is: its message already says what it is about.
 */
export function inStep(e: unknown, step: string): unknown {
  if (e instanceof Error && !isUserError(e) && !(STEP in e)) Object.defineProperty(e, STEP, { value: step });
  return e;
}

function whileLine(e: unknown): string {
  const step = e instanceof Error ? (e as Error & { [STEP]?: string })[STEP] : undefined;
  return step ? ` while ${printable(step)}` : '';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** File-system errors that say something about the user's disk or permissions, not about yumda. */
const FS_PROBLEMS: Record<string, { what: string; hint: string }> = {
  ENOSPC: { what: 'no space left on device', hint: 'free some space there, or write elsewhere (--out, --out-dir, --cache-dir)' },
  EDQUOT: { what: 'disk quota exceeded', hint: 'free some space there, or write elsewhere (--out, --out-dir, --cache-dir)' },
  EROFS: { what: 'read-only file system', hint: 'write elsewhere (--out, --out-dir, --cache-dir)' },
  EACCES: { what: 'permission denied', hint: 'check the permissions, or write elsewhere (--out, --out-dir, --cache-dir)' },
  EPERM: { what: 'operation not permitted', hint: 'check the permissions, or write elsewhere (--out, --out-dir, --cache-dir)' },
};

/**
 * A full disk, a quota, a read-only or forbidden place, as the one line the user can act on: what
 * happened, where (`path`, else the error's own path) and, when known, how much space the step
 * needs. Any other error is returned as it came, so a bug keeps its stack trace. The one place
 * that maps them: `throw fsError(e, { path })` where the path is known, and the CLI's last catch
 * for the rest.
 */
export function fsError(e: unknown, where: { path?: string; needed?: string; hint?: string } = {}): unknown {
  if (e instanceof UserError || !(e instanceof Error)) return e;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const problem = err.code ? FS_PROBLEMS[err.code] : undefined;
  if (!problem) return e;
  const p = where.path ?? err.dest ?? err.path;
  const at = !p ? '' : err.code === 'EACCES' || err.code === 'EPERM' ? `: ${p}` : ` writing ${p}`;
  const needed = where.needed ? ` (it needs about ${where.needed})` : '';
  return new UserError(`${problem.what}${at}${needed}`, { hint: where.hint ?? problem.hint, cause: e });
}
