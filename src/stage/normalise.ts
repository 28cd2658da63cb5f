/**
 * Generated files made reproducible: the same packages give the same bytes. Scripts run with
 * SOURCE_DATE_EPOCH (and FORCE_SOURCE_DATE, for TeX), which most tools honour; the formats below
 * record the time of their making, or an order that depends on the run, whatever the environment,
 * and are rewritten here with a fixed time and a sorted order. Pure.
 */
import { createHash } from 'node:crypto';

/** The time generated files are made at: 1980-01-01, the time of every entry of a layer zip. */
export const SOURCE_DATE_EPOCH = 315532800;

export interface Normaliser {
  /** What it normalises, for the report. */
  what: string;
  /** The normalised bytes, or undefined when `data` is not of its format or cannot be read as one. */
  normalise(data: Buffer): Buffer | undefined;
}

const JKS_MAGIC = 0xfeedfeed;
/**
 * The store password that Debian's and Fedora's trust stores use (`changeit`, the JDK's): the
 * digest at the end of a JKS file is keyed with it. A store under another password is left as it is.
 */
export const JKS_DEFAULT_PASSWORD = 'changeit';

interface JksEntry {
  alias: Buffer;
  /** The entry's bytes after its alias: date, then key or certificate. */
  date: bigint;
  rest: Buffer;
  tag: number;
}

/** A Java KeyStore (JKS, version 2) as Java writes it, or undefined when `data` is not one. */
export function parseJks(data: Buffer): { entries: JksEntry[]; digestOk: (password: string) => boolean } | undefined {
  if (data.length < 32 || data.readUInt32BE(0) !== JKS_MAGIC || data.readUInt32BE(4) !== 2) return undefined;
  const count = data.readUInt32BE(8);
  let at = 12;
  const need = (n: number) => {
    if (at + n > data.length - 20) throw new Error('truncated');
  };
  const utf = () => {
    need(2);
    const n = data.readUInt16BE(at);
    need(2 + n);
    const b = data.subarray(at, at + 2 + n);
    at += 2 + n;
    return b;
  };
  const blob = () => {
    need(4);
    const n = data.readUInt32BE(at);
    need(4 + n);
    at += 4 + n;
  };
  const entries: JksEntry[] = [];
  try {
    for (let i = 0; i < count; i++) {
      need(4);
      const tag = data.readUInt32BE(at);
      at += 4;
      const alias = utf();
      need(8);
      const date = data.readBigInt64BE(at);
      at += 8;
      const start = at;
      if (tag === 1) {
        blob(); // the protected key
        need(4);
        const chain = data.readUInt32BE(at);
        at += 4;
        for (let c = 0; c < chain; c++) {
          utf(); // certificate type
          blob();
        }
      } else if (tag === 2) {
        utf();
        blob();
      } else return undefined;
      entries.push({ tag, alias, date, rest: Buffer.from(data.subarray(start, at)) });
    }
  } catch {
    return undefined;
  }
  if (at !== data.length - 20) return undefined;
  const body = data.subarray(0, at);
  const digest = data.subarray(at);
  return { entries, digestOk: (password) => jksDigest(body, password).equals(digest) };
}

/** The keyed SHA-1 that ends a JKS file: the password as UTF-16BE, "Mighty Aphrodite", the body. */
export function jksDigest(body: Buffer, password: string): Buffer {
  const pw = Buffer.alloc(password.length * 2);
  for (let i = 0; i < password.length; i++) pw.writeUInt16BE(password.charCodeAt(i), i * 2);
  return createHash('sha1').update(pw).update('Mighty Aphrodite', 'utf8').update(body).digest();
}

/** A JKS file of these entries, in this order, sealed with `password`. */
export function writeJks(entries: Array<{ tag: number; alias: Buffer; date: bigint; rest: Buffer }>, password: string): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(12);
  head.writeUInt32BE(JKS_MAGIC, 0);
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(entries.length, 8);
  parts.push(head);
  for (const e of entries) {
    const tag = Buffer.alloc(4);
    tag.writeUInt32BE(e.tag);
    const date = Buffer.alloc(8);
    date.writeBigInt64BE(e.date);
    parts.push(tag, e.alias, date, e.rest);
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, jksDigest(body, password)]);
}

/**
 * Java trust stores (ca-certificates-java's /etc/ssl/certs/java/cacerts): every entry records
 * when keytool added it, and the entries come in the order of a hash table. Normalised: every
 * date is SOURCE_DATE_EPOCH, the entries sorted by alias, the digest made again with the
 * password that sealed it.
 */
export const JKS_TRUST_STORE: Normaliser = {
  what: 'Java KeyStore (entry dates and order)',
  normalise(data) {
    const jks = parseJks(data);
    if (!jks?.digestOk(JKS_DEFAULT_PASSWORD)) return undefined;
    const entries = [...jks.entries].sort((a, b) => Buffer.compare(a.alias, b.alias)).map((e) => ({ ...e, date: BigInt(SOURCE_DATE_EPOCH) * 1000n }));
    return writeJks(entries, JKS_DEFAULT_PASSWORD);
  },
};

export const NORMALISERS: readonly Normaliser[] = [JKS_TRUST_STORE];

/** `data` normalised by the first normaliser that reads it, and which one; undefined when none changes it. */
export function normalise(data: Buffer, normalisers: readonly Normaliser[] = NORMALISERS): { data: Buffer; what: string } | undefined {
  for (const n of normalisers) {
    const out = n.normalise(data);
    if (out && !out.equals(data)) return { data: out, what: n.what };
    if (out) return undefined;
  }
  return undefined;
}
