import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createDeflateRaw, createGzip, crc32 } from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { expect } from 'vitest';
import { readStream } from '../../src/util/stream.js';
import { cliPath, run, type CliResult } from './cli.js';
import { craftZip, type CraftedEntry } from './craftzip.js';
import { tempDir } from './tmp.js';

/**
 * Archives an attacker (or a bad disk) would hand yumda, written for real: zips with a flipped
 * byte or a huge deflated entry, image tarballs with a gzip bomb layer or metadata of the wrong
 * shape. Large contents are streamed, so the test process itself stays small.
 */

const MiB = 1024 * 1024;

/** A crafted (stored) zip with one byte of `entry`'s data flipped: sizes and CRC in the headers unchanged. */
export function zipWithFlippedByte(entries: CraftedEntry[], entry: string): Buffer {
  const zip = craftZip(entries);
  // walk the local headers: 30 bytes, the name, the extra field, then the data
  for (let at = 0; zip.readUInt32LE(at) === 0x04034b50; ) {
    const nameLen = zip.readUInt16LE(at + 26);
    const data = at + 30 + nameLen + zip.readUInt16LE(at + 28);
    if (zip.subarray(at + 30, at + 30 + nameLen).toString('utf8') === entry) {
      zip[data] ^= 0x01;
      return zip;
    }
    at = data + zip.readUInt32LE(at + 18);
  }
  throw new Error(`no entry ${entry}`);
}

/** `head`, then zeros up to `n` bytes in all, in 1 MiB chunks. */
function* zeros(n: number, head: Buffer = Buffer.alloc(0)): Generator<Buffer> {
  if (head.length) yield head;
  const chunk = Buffer.alloc(MiB);
  for (let left = n - head.length; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
}

/**
 * A zip whose entries are `size` zero bytes each (after `head`, when given), deflated (a 1 GiB entry takes about 1 MiB),
 * written without ever holding an inflated entry in memory. Unix mode 0644, made by unix. `others`
 * (small, a layer manifest) come first.
 */
export async function deflateBombZip(file: string, entries: Array<{ name: string; size: number; head?: Buffer }>, others: CraftedEntry[] = []): Promise<void> {
  const crafted: CraftedEntry[] = [...others];
  for (const e of entries) {
    let crc = 0;
    for (const z of zeros(e.size, e.head)) crc = crc32(z, crc);
    const data = await readStream(Readable.from(zeros(e.size, e.head)).pipe(createDeflateRaw({ level: 9 })));
    crafted.push({ name: e.name, deflated: { data, size: e.size, crc32: crc >>> 0 } });
  }
  writeFileSync(file, craftZip(crafted));
}

/** A tar member's 512-byte ustar header; sizes past 8 GiB in base-256, as GNU tar writes them. */
export function tarHeader(name: string, size: number, type: '0' | '5' = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (size < 8 ** 11) h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  else {
    h[124] = 0x80;
    let n = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(n & 0xffn);
      n >>= 8n;
    }
  }
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** A gzipped layer tar holding `opt/` and, for each file, `size` zero bytes: streamed, compressed in memory (small). */
export async function gzipLayer(files: Array<{ name: string; size: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const out = readStream(pack.pipe(createGzip({ level: 9 })));
  pack.entry({ name: 'opt/', type: 'directory', mode: 0o755 });
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      const s = pack.entry({ name: f.name, size: f.size, mode: 0o644 }, (err) => (err ? reject(err) : resolve()));
      Readable.from(zeros(f.size)).pipe(s);
    });
  }
  pack.finalize();
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A tar of the given members, in memory (they are all small here). */
export async function tarOf(members: Array<{ name: string; data: Buffer | string }>): Promise<Buffer> {
  const pack = tar.pack();
  const out = readStream(pack);
  for (const m of members) pack.entry({ name: m.name, mode: 0o644 }, typeof m.data === 'string' ? Buffer.from(m.data) : m.data);
  pack.finalize();
  return out;
}

/** An OCI image layout tarball with one image of the given layer blobs (index.json → manifest → config). */
export async function ociTarball(layers: Buffer[]): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(l)}`, size: l.length })),
    }),
  );
  const index = { schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha(manifest)}`, size: manifest.length }] };
  return tarOf([
    { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
    { name: 'index.json', data: JSON.stringify(index) },
    { name: `blobs/sha256/${sha(manifest)}`, data: manifest },
    { name: `blobs/sha256/${sha(config)}`, data: config },
    ...layers.map((l) => ({ name: `blobs/sha256/${sha(l)}`, data: l })),
  ]);
}

/**
 * Runs the built CLI under GNU time and reports its peak resident set size (the child's own
 * maximum, as the kernel counts it), next to its output.
 */
export async function runYumdaMeasured(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<CliResult & { peakRssMiB: number }> {
  const out = path.join(tempDir('yumda-rss-'), 'rss');
  const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock', ...opts.env } as NodeJS.ProcessEnv;
  const r = await run('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, cliPath, ...args], { cwd: opts.cwd, env });
  const kib = Number(readFileSync(out, 'utf8').trim().split('\n').pop());
  return { ...r, peakRssMiB: Math.round(kib / 1024) };
}

/** One line `yumda: error: …` matching `pattern`, exit 1, no stack trace, nothing on stdout. */
export function expectOneErrorLine(r: CliResult, what: string, pattern: RegExp): void {
  expect(r.code, `${what}: ${r.stderr}`).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(/^yumda: error: /);
  expect(lines[0], what).toMatch(pattern);
  expect(r.stderr, what).not.toMatch(/internal error|\n\s+at /);
  expect(r.stdout, what).toBe('');
}
