/**
 * RPM version semantics, as rpm itself implements them (lib/rpmvercmp.c and lib/rpmds.c): version
 * comparison, EVR strings, and whether a capability someone provides satisfies one someone
 * requires. Pure; checked against rpm's own test cases (../shared/fixtures/vercmp).
 */

function isAlnum(c: string): boolean {
  return /[A-Za-z0-9]/.test(c);
}

/** rpmvercmp: -1, 0 or 1, segment by segment, with `~` sorting before anything and `^` after the base. */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]!) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]!) && b[j] !== '~' && b[j] !== '^') j++;

    // tilde sorts before everything, even the end of the string
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // caret sorts after the end of the string but before any other segment
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;

    const numeric = /[0-9]/.test(a[i]!);
    const seg = numeric ? /[0-9]/ : /[A-Za-z]/;
    let ie = i;
    let je = j;
    while (ie < a.length && seg.test(a[ie]!)) ie++;
    while (je < b.length && seg.test(b[je]!)) je++;
    let sa = a.slice(i, ie);
    let sb = b.slice(j, je);
    // a numeric segment is newer than an alphabetic one; an empty one means types differ
    if (sb.length === 0) return numeric ? 1 : -1;
    if (numeric) {
      sa = sa.replace(/^0+/, '');
      sb = sb.replace(/^0+/, '');
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  // whichever has characters left is newer
  return i < a.length ? 1 : -1;
}

export interface Evr {
  epoch: number;
  version: string;
  /** Absent when the string named no release (`>= 1.2` matches every release of 1.2). */
  release?: string | undefined;
}

/** `[epoch:]version[-release]`. */
export function parseEvr(s: string): Evr {
  const m = /^(?:(\d+):)?([^-]*)(?:-(.*))?$/.exec(s.trim());
  if (!m) return { epoch: 0, version: s };
  return { epoch: m[1] ? Number(m[1]) : 0, version: m[2]!, release: m[3] };
}

export function formatEvr(e: Evr): string {
  return `${e.epoch ? `${e.epoch}:` : ''}${e.version}${e.release !== undefined ? `-${e.release}` : ''}`;
}

/** Compares epoch, then version, then release (when both have one). */
export function compareEvr(a: Evr, b: Evr): -1 | 0 | 1 {
  if (a.epoch !== b.epoch) return a.epoch < b.epoch ? -1 : 1;
  const v = rpmvercmp(a.version, b.version);
  if (v !== 0) return v;
  if (a.release === undefined || b.release === undefined) return 0;
  return rpmvercmp(a.release, b.release);
}

export type DepOp = '<' | '<=' | '=' | '>=' | '>';

/** A capability as rpm prints it: `name`, or `name OP [epoch:]version[-release]`. */
export interface Reldep {
  name: string;
  op?: DepOp;
  evr?: Evr;
  /** Rich (boolean) dependencies, `(a if b)`: not evaluated here. */
  rich?: boolean;
}

export function parseReldep(s: string): Reldep {
  const t = s.trim();
  if (t.startsWith('(')) return { name: t, rich: true };
  const m = /^(\S+)\s+(<=|>=|=|<|>)\s+(\S+)$/.exec(t);
  if (!m) return { name: t };
  return { name: m[1]!, op: m[2] as DepOp, evr: parseEvr(m[3]!) };
}

const LESS = 2;
const GREATER = 4;
const EQUAL = 8;
const SENSE: Record<DepOp, number> = { '<': LESS, '<=': LESS | EQUAL, '=': EQUAL, '>=': GREATER | EQUAL, '>': GREATER };

/**
 * Whether a provided capability satisfies a required one: rpmdsCompare's range overlap. Same name,
 * and an unversioned side matches any version.
 */
export function satisfies(provide: Reldep, require: Reldep): boolean {
  if (provide.rich || require.rich) return false;
  if (provide.name !== require.name) return false;
  if (!require.op || !require.evr || !provide.op || !provide.evr) return true;
  const a = SENSE[provide.op];
  const b = SENSE[require.op];
  const sense = compareEvr(provide.evr, require.evr);
  if (sense < 0) return (a & GREATER) !== 0 || (b & LESS) !== 0;
  if (sense > 0) return (a & LESS) !== 0 || (b & GREATER) !== 0;
  return ((a & EQUAL) !== 0 && (b & EQUAL) !== 0) || ((a & LESS) !== 0 && (b & LESS) !== 0) || ((a & GREATER) !== 0 && (b & GREATER) !== 0);
}

/** `name-[epoch:]version-release.arch`, as dnf and yum name a package. */
export function nevra(p: { name: string; epoch?: number | undefined; version: string; release: string; arch: string }): string {
  return `${p.name}-${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}.${p.arch}`;
}
