import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { entryState, removeEntry, unreadable } from './entry.js';
import path from 'node:path';
import { writeFileAtomicSync } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';
import { validateDocument } from '../util/schema.js';

/** The envelope version: records of other versions are another yumda's, not damage. */
const RECORD_VERSION = 2;

/** A record found (with its age), found unusable (and removed), or absent. */
export type Lookup<T> = { value: T; ageMs: number } | { damaged: string; file: string } | undefined;

/**
 * Small JSON documents by key, written atomically. Each is sealed with the sha256 of its value and
 * checked against schema/<schema>.schema.json when read: a record that was truncated, edited by
 * hand or written in another shape is removed and reported as damaged, never used.
 */
export class JsonStore<T> {
  constructor(
    readonly dir: string,
    private readonly schema: string,
  ) {}

  file(key: string): string {
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): Lookup<T> {
    const f = this.file(key);
    const st = entryState(f);
    if ('missing' in st) return undefined;
    let text: string;
    let ageMs: number;
    try {
      if ('damaged' in st) throw st;
      ageMs = Date.now() - statSync(f).mtimeMs;
      text = readFileSync(f, 'utf8');
    } catch (e) {
      // a directory, a link, an unreadable file: dropped like any other damage, written anew by the next put
      this.drop(key);
      return { damaged: e === st && 'damaged' in st ? st.damaged : unreadable(e), file: f };
    }
    const reason = this.problem(text, f);
    if (reason === 'other-version') return undefined;
    if (reason !== undefined) {
      this.drop(key);
      return { damaged: reason, file: f };
    }
    return { value: (JSON.parse(text) as { value: T }).value, ageMs };
  }

  put(key: string, value: T): void {
    mkdirSync(this.dir, { recursive: true });
    if ('damaged' in entryState(this.file(key))) this.drop(key);
    const body = JSON.stringify(value);
    writeFileAtomicSync(this.file(key), `{"v":${RECORD_VERSION},"sha256":"${sha256(body)}","value":${body}}`);
  }

  drop(key: string): void {
    removeEntry(this.file(key));
  }

  private problem(text: string, file: string): string | 'other-version' | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return `not valid JSON (${text.length} bytes)`;
    }
    const envelope = doc as { v?: unknown; sha256?: unknown; value?: unknown } | null;
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope) || envelope.v !== RECORD_VERSION) return 'other-version';
    // JSON.stringify of what JSON.parse read gives back the bytes that were sealed, whatever the
    // whitespace: only a change of the value itself breaks the seal
    if (typeof envelope.sha256 !== 'string' || !('value' in envelope)) return 'not a sealed cache record';
    if (envelope.sha256 !== sha256(JSON.stringify(envelope.value))) return 'its checksum does not match its content';
    try {
      validateDocument(this.schema, envelope.value, file);
    } catch (e) {
      if (e instanceof UserError) return e.message.slice(file.length + 2);
      throw e;
    }
    return undefined;
  }
}

/** The one line a dropped cache record or file gets: what (and where), why, and what happens instead. */
export function droppedLine(subject: string, reason: string, instead: string): string {
  return `cache: ${subject} is damaged (${reason}): dropped, ${instead}`;
}
