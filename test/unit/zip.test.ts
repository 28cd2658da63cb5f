import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeLayerZip } from '../../src/emit/zip.js';
import { writeLayerDir } from '../../src/emit/dir.js';
import { archiveEntries } from '../../src/emit/archive-entries.js';
import { file, symlink, dir, treeOf } from '../helpers/tree.js';
import { readZip } from '../helpers/zip.js';
import yauzl from 'yauzl';
import { isCompressedStream } from '../../src/emit/zip-writer.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/cli.js';
import { promises as fs } from 'node:fs';

const layer = () =>
  treeOf([
    file('/opt/lib/libx.so.1', Buffer.alloc(5000, 7)),
    dir('/opt/bin'),
    file('/opt/bin/tool', '#!/bin/sh\necho hi\n', 0o755),
    dir('/opt/lib'),
    symlink('/opt/lib/libx.so', 'libx.so.1'),
  ]);

describe('layer zip', () => {
  it('stores entries sorted, relative to /opt, with unix modes, symlinks as symlinks, and fixed times', async () => {
    const out = path.join(tempDir(), 'layer.zip');
    await writeLayerZip(layer(), out);
    const entries = await readZip(out);
    expect(entries.map((e) => e.name)).toEqual(['bin/', 'bin/tool', 'lib/', 'lib/libx.so', 'lib/libx.so.1']);
    expect(entries.find((e) => e.name === 'bin/tool')).toMatchObject({ kind: 'file', mode: 0o755 });
    expect(entries.find((e) => e.name === 'lib/libx.so.1')).toMatchObject({ kind: 'file', mode: 0o644, size: 5000 });
    expect(entries.find((e) => e.name === 'lib/libx.so')).toMatchObject({ kind: 'symlink', target: 'libx.so.1' });
    // 1980-01-01 00:00:00 in DOS date/time fields
    for (const e of entries) expect([e.dosDate, e.dosTime]).toEqual([(0 << 9) | (1 << 5) | 1, 0]);
  });

  it('gives the same bytes for the same layer, whatever the time zone or moment', async () => {
    const d = tempDir();
    await writeLayerZip(layer(), path.join(d, 'a.zip'));
    await new Promise((r) => setTimeout(r, 1100));
    process.env.TZ = 'Asia/Tokyo';
    await writeLayerZip(layer(), path.join(d, 'b.zip'));
    delete process.env.TZ;
    expect(readFileSync(path.join(d, 'a.zip')).equals(readFileSync(path.join(d, 'b.zip')))).toBe(true);
  });

  it('is what Info-ZIP unzip restores: modes and symlinks', async () => {
    const d = tempDir();
    await writeLayerZip(layer(), path.join(d, 'l.zip'));
    const r = await run('unzip', ['-q', 'l.zip', '-d', 'x'], { cwd: d });
    expect(r.code).toBe(0);
    expect(await fs.readlink(path.join(d, 'x/lib/libx.so'))).toBe('libx.so.1');
    expect((await fs.stat(path.join(d, 'x/bin/tool'))).mode & 0o777).toBe(0o755);
  });

  it('stores a zstd stream without deflating it, however it would deflate; other files are deflated', async () => {
    // a real zstd frame holding one raw block of 200 'a's: deflate would shrink it to a few bytes,
    // so only the rule (a compressed stream is stored, by its magic) stores it
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 200]), Buffer.from([(1 | (200 << 3)) & 0xff, (200 << 3) >> 8, 0]), Buffer.alloc(200, 'a')]);
    const d = tempDir();
    await fs.writeFile(path.join(d, 'f.zst'), frame);
    const decoded = await run('zstd', ['-dcq', 'f.zst'], { cwd: d });
    expect(decoded).toMatchObject({ code: 0, stdout: 'a'.repeat(200) });
    await writeLayerZip(treeOf([file('/opt/share/tree.tar.zst', frame), file('/opt/share/text', Buffer.alloc(200, 'a'))]), path.join(d, 'l.zip'));
    const methods = await new Promise<Record<string, number>>((resolve, reject) =>
      yauzl.open(path.join(d, 'l.zip'), { lazyEntries: false }, (err, zip) => {
        if (err) return reject(err);
        const out: Record<string, number> = {};
        zip.on('entry', (e: yauzl.Entry) => (out[e.fileName] = e.compressionMethod));
        zip.on('end', () => resolve(out));
      }),
    );
    expect(methods).toEqual({ 'share/text': 8, 'share/tree.tar.zst': 0 });
    const r = await run('unzip', ['-p', 'l.zip', 'share/tree.tar.zst'], { cwd: d });
    expect(Buffer.from(r.stdout, 'latin1').length).toBe(frame.length);
  });

  it.each([
    ['a zstd frame', [0x28, 0xb5, 0x2f, 0xfd, 0x00], true],
    ['an xz stream', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00], true],
    ['gzip (left to deflate to decide)', [0x1f, 0x8b, 0x08], false],
    ['three bytes of a zstd magic', [0x28, 0xb5, 0x2f], false],
    ['nothing', [], false],
  ])('isCompressedStream: %s → %s', (_what, bytes, expected) => {
    expect(isCompressedStream(Buffer.from(bytes as number[]))).toBe(expected);
  });

  it('writes no file when a write fails, and leaves no temporary behind', async () => {
    const d = tempDir();
    const bad = treeOf([file('/opt/a', 'a'), { kind: 'file', path: '/opt/b', mode: 0o644, size: 1, content: { kind: 'file', hostPath: '/nonexistent/zzz' } }]);
    await expect(writeLayerZip(bad, path.join(d, 'out.zip'))).rejects.toThrow();
    expect(await fs.readdir(d)).toEqual([]);
  });

  it('refuses entries outside /opt', () => {
    expect(() => archiveEntries(treeOf([file('/etc/passwd', 'x')]))).toThrow(/outside \/opt/);
  });

  it('refuses names every writer would follow out of the layer: .. components, entries under a symlink', () => {
    expect(() => archiveEntries(treeOf([file('/opt/../tmp/x', 'x')]))).toThrow(/\.\. component/);
    expect(() => archiveEntries(treeOf([symlink('/opt/lib', '/tmp/victim'), file('/opt/lib/x', 'x')]))).toThrow(/\/opt\/lib\/x lies under the symlink \/opt\/lib/);
  });

  it('writes the same tree as a directory', async () => {
    const d = path.join(tempDir(), 'layer');
    await writeLayerDir(layer(), d);
    expect(await fs.readlink(path.join(d, 'lib/libx.so'))).toBe('libx.so.1');
    expect((await fs.stat(path.join(d, 'bin/tool'))).mode & 0o777).toBe(0o755);
    expect((await fs.readFile(path.join(d, 'lib/libx.so.1'))).length).toBe(5000);
  });
});
