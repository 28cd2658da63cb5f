import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { treeTarStream, type TarMember } from '../../src/tree/tar.js';
import type { FileEntry } from '../../src/tree/types.js';
import { dir, file, symlink } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';

const onDisk = (p: string, hostPath: string, size: number): FileEntry => ({ kind: 'file', path: p, mode: 0o644, size, content: { kind: 'file', hostPath } });
const members = (entries: Array<FileEntry | ReturnType<typeof dir> | ReturnType<typeof symlink>>): TarMember[] => entries.map((e) => ({ name: e.path.slice(1), entry: e }));

async function readTar(stream: NodeJS.ReadableStream): Promise<Array<{ name: string; type: string; data: string; linkname?: string | null }>> {
  const out: Array<{ name: string; type: string; data: string; linkname?: string | null }> = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      out.push({ name: entry.header.name, type: entry.header.type ?? '', data: Buffer.concat(chunks).toString(), linkname: entry.header.linkname });
    }
  })();
  await pipeline(stream, extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

describe('treeTarStream', () => {
  it('writes directories, symlinks, in-memory and on-disk files in the order given', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'blob'), 'from disk');
    const got = await readTar(treeTarStream(members([dir('/a'), file('/a/m', 'in memory'), onDisk('/a/d', path.join(d, 'blob'), 9), symlink('/a/l', 'm')]), new Date(0)));
    expect(got).toEqual([
      { name: 'a/', type: 'directory', data: '', linkname: null },
      { name: 'a/m', type: 'file', data: 'in memory', linkname: null },
      { name: 'a/d', type: 'file', data: 'from disk', linkname: null },
      { name: 'a/l', type: 'symlink', data: '', linkname: 'm' },
    ]);
  });

  // issue 11: the copy in pipeline/tarball.ts piped the content file and dropped its read error,
  // so a content file cleaned from the cache left the reader (putArchive) waiting forever
  it('fails the stream, without hanging, when a content file is missing', async () => {
    const d = tempDir();
    const stream = treeTarStream(members([dir('/a'), onDisk('/a/gone', path.join(d, 'no-such-file'), 1234), file('/a/after', 'x')]), new Date(0));
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const timeout = new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), 5000).unref());
    const outcome = await Promise.race([
      pipeline(stream, sink).then(
        () => 'finished',
        (e: NodeJS.ErrnoException) => e.code ?? e.message,
      ),
      timeout,
    ]);
    expect(outcome).toBe('ENOENT');
  });
});
