import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { shellQuote } from './shell.js';

/**
 * Shell scripts live as .sh files beside the code that renders them, and are filled in with named
 * values. A template is valid shell as it stands, so shellcheck reads every one as a file
 * (test/unit/shellcheck.test.ts), and every rendered script again:
 *
 * - A value goes where `__NAME__` stands (capitals, digits, single underscores). Not `@NAME@`:
 *   `__NAME__` is a word shell accepts wherever a value goes, arithmetic included
 *   (`$((SECONDS + __WAIT__))` parses, `@WAIT@` there does not), and shellcheck takes a
 *   capitalised name for one from the environment, so it asks for no assignment.
 * - A string goes in as one shell word (shellQuote), a list as words, a number as written.
 *   `raw(text)` goes in as it is: text in a comment or inside double quotes, or a rendered
 *   fragment; its caller answers for what it holds.
 * - A placeholder that is a whole line takes the line: an empty value removes it.
 * - `#if NAME` … `#else` … `#end` lines (not nested) keep one side for a boolean value: the
 *   optional lines stay in the file, and shellcheck reads both sides.
 * - `# shellcheck` lines tell the checker what it needs to read the template alone (the shell
 *   when the shebang is a placeholder, a variable set by a fragment rendered in): they are not
 *   rendered, and the rendered script is checked on its own.
 * - A placeholder left without a value, or a value the template never names, is yumda's mistake,
 *   never the user's: it throws.
 */

const RAW: unique symbol = Symbol('raw');

export interface Raw {
  readonly [RAW]: string;
}

/** Text that goes into the script as it is, unquoted. */
export function raw(text: string): Raw {
  return { [RAW]: text };
}

export type TemplateValue = string | number | boolean | readonly string[] | Raw;
export type TemplateValues = Readonly<Record<string, TemplateValue>>;

const NAME = '[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*';
const PLACEHOLDER = new RegExp(`__(${NAME})__`, 'g');
const WHOLE_LINE = new RegExp(`^__(${NAME})__$`);
const SECTION = new RegExp(`^\\s*#(?:if (${NAME})|(else)|(end))\\s*$`);
const CHECKER_LINE = /^\s*# shellcheck /;

/** Template files by path, each read once. */
const texts = new Map<string, string>();

/**
 * The renderer of one template file (`new URL('./stage.sh', import.meta.url)`: beside the module
 * in src/ and, copied by the build, in dist/src/). The file is read on the first render, then kept.
 */
export function shellTemplate(file: URL): (values: TemplateValues) => string {
  const p = fileURLToPath(file);
  return (values) => {
    let text = texts.get(p);
    if (text === undefined) {
      text = readFileSync(p, 'utf8');
      texts.set(p, text);
    }
    return renderTemplate(text, values, p);
  };
}

/** The template files rendered so far in this process (the shellcheck test checks it rendered every one). */
export function templatesRendered(): string[] {
  return [...texts.keys()];
}

export function renderTemplate(text: string, values: TemplateValues, name = 'template'): string {
  const fail = (line: number | undefined, why: string): never => {
    throw new Error(`${name}${line === undefined ? '' : `:${line}`}: ${why}`);
  };
  const unused = new Set(Object.keys(values));
  const value = (n: string, line: number): string => {
    const v = values[n];
    if (v === undefined) return fail(line, `__${n}__ has no value`);
    if (typeof v === 'boolean') return fail(line, `__${n}__ is a yes or no, for #if ${n}, not a value`);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : fail(line, `__${n}__ is not a number: ${v}`);
    if (typeof v === 'string') return shellQuote(v);
    if (isRaw(v)) return v[RAW];
    return v.map(shellQuote).join(' ');
  };
  const out: string[] = [];
  let section: { keep: boolean; sawElse: boolean } | undefined;
  text.split('\n').forEach((line, i) => {
    const at = i + 1;
    const s = SECTION.exec(line);
    if (s) {
      const [, cond, otherwise] = s;
      if (cond) {
        if (section) fail(at, '#if inside #if');
        const v = values[cond];
        if (typeof v !== 'boolean') fail(at, `#if ${cond} needs a yes or no, not ${v === undefined ? 'nothing' : typeof v}`);
        unused.delete(cond);
        section = { keep: v as boolean, sawElse: false };
      } else if (otherwise) {
        if (!section || section.sawElse) fail(at, '#else without its #if');
        section = { keep: !section!.keep, sawElse: true };
      } else {
        if (!section) fail(at, '#end without #if');
        section = undefined;
      }
      return;
    }
    if (CHECKER_LINE.test(line)) return;
    for (const m of line.matchAll(PLACEHOLDER)) unused.delete(m[1]!);
    if (section && !section.keep) return;
    const whole = WHOLE_LINE.exec(line);
    if (whole) {
      const v = value(whole[1]!, at).replace(/\n$/, '');
      if (v !== '') out.push(v);
      return;
    }
    out.push(line.replace(PLACEHOLDER, (_, n: string) => value(n, at)));
  });
  if (section) fail(undefined, '#if without #end');
  if (unused.size) fail(undefined, `values the template never names: ${[...unused].join(', ')}`);
  return out.join('\n');
}

function isRaw(v: object): v is Raw {
  return RAW in v;
}
