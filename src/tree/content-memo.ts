import type { Content } from './types.js';

/**
 * What one run (a build, a relocation) computed from a file's bytes, kept for every other entry
 * with the same bytes: a tree holds one content under several names (hard links made copies,
 * identical files of several packages), and relocation, the module pass and the closure check
 * each read and parse every ELF file of the layer. Issue 24: parsing and scanning the same bytes
 * again was most of a warm rebuild's relocation.
 *
 * Keys say "same bytes" only where that is certain: the SHA-256 the content store verified in
 * this process, else the store's file (its name is its digest, and it does not change within a
 * run), else the very buffer of bytes made in memory. Results only: bytes are not held, so the
 * memo costs no more memory than what it keeps (parsed headers, offsets of strings).
 */
export class ContentMemo {
  private readonly byKey = new Map<string, Map<string, unknown>>();
  private readonly byBuffer = new WeakMap<Buffer, Map<string, unknown>>();
  /**
   * @param computed how many times each kind of result was computed (what the tests count); a
   * memo of narrower scope (one relocation's PathMap) may add to the run's tally
   */
  constructor(readonly computed = new Map<string, number>()) {}

  /** `what` of these bytes: `compute()`'s result, computed once per run for all entries that hold them. */
  get<T>(c: Content, what: string, compute: () => T): T {
    const results = this.resultsOf(c);
    if (results.has(what)) return results.get(what) as T;
    const r = compute();
    results.set(what, r);
    this.computed.set(what, (this.computed.get(what) ?? 0) + 1);
    return r;
  }

  private resultsOf(c: Content): Map<string, unknown> {
    if (c.kind === 'bytes') {
      const m = this.byBuffer.get(c.data) ?? new Map<string, unknown>();
      this.byBuffer.set(c.data, m);
      return m;
    }
    const key = c.sha256 !== undefined ? `sha256:${c.sha256}` : `file:${c.hostPath}`;
    const m = this.byKey.get(key) ?? new Map<string, unknown>();
    this.byKey.set(key, m);
    return m;
  }
}
