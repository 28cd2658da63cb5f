import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { DeflatedCache } from '../../src/emit/deflated.js';
import { writeLayerZip } from '../../src/emit/zip.js';
import { deflateAhead } from '../../src/emit/zip-writer.js';
import type { FileTree } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { readZip } from '../helpers/zip.js';
import { run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** A layer whose files are in a content store, as a build's are: the deflated cache finds them by digest. */
const noise = randomBytes(20_000);

function storedLayer(store: ContentStore): FileTree {
  const tree = treeOf([
    dir('/opt/bin'),
    file('/opt/bin/tool', '#!/bin/sh\necho hi\n'.repeat(50), 0o755),
    file('/opt/lib/libx.so.1', Buffer.alloc(50_000, 7)),
    // incompressible: stored, and recorded as such
    file('/opt/share/noise.bin', noise),
    symlink('/opt/lib/libx.so', 'libx.so.1'),
    // bytes made in memory (a manifest): no verified digest, never cached
    file('/opt/.yumda/manifest.json', '{"a":1}\n'.repeat(40)),
  ]);
  for (const e of tree.values()) {
    if (e.kind === 'file' && !e.path.startsWith('/opt/.yumda/') && e.content.kind === 'bytes') e.content = store.save(e.content.data);
  }
  return tree;
}

const digestOf = (store: ContentStore, data: Buffer) => store.put(data).hash;

function setup() {
  const root = tempDir();
  const store = new ContentStore(path.join(root, 'content'));
  const warned: string[] = [];
  const cache = () => new DeflatedCache(path.join(root, 'deflated'), (l) => warned.push(l));
  const entries = () => readdirSync(path.join(root, 'deflated'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  return { root, store, warned, cache, entries };
}

describe('deflated copies of layer files, by content digest', () => {
  it('a zip written from the copies has the same bytes as one deflated anew, and Info-ZIP tests it clean', async () => {
    const s = setup();
    const plain = path.join(s.root, 'plain.zip');
    await writeLayerZip(storedLayer(s.store), plain);
    const first = path.join(s.root, 'first.zip');
    await writeLayerZip(storedLayer(s.store), first, undefined, s.cache());
    // the three stored files, not the manifest made in memory
    expect(s.entries()).toHaveLength(3);
    const again = path.join(s.root, 'again.zip');
    await writeLayerZip(storedLayer(s.store), again, undefined, s.cache());
    expect(readFileSync(first).equals(readFileSync(plain))).toBe(true);
    expect(readFileSync(again).equals(readFileSync(plain))).toBe(true);
    const t = await run('unzip', ['-t', again]);
    expect(t.code, t.stdout).toBe(0);
    expect((await readZip(again)).find((e) => e.name === 'lib/libx.so.1')).toMatchObject({ kind: 'file', size: 50_000 });
    expect(s.warned).toEqual([]);
  });

  it('deflating ahead (while a build waits on its scripts) makes the copies the zip then uses: the same bytes', async () => {
    const s = setup();
    const plain = path.join(s.root, 'plain.zip');
    await writeLayerZip(storedLayer(s.store), plain);
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(4000, 1)]);
    const contents = [...storedLayer(s.store).values()].flatMap((e) => (e.kind === 'file' ? [e.content] : []));
    // stopped before the first file: nothing
    expect(await deflateAhead(contents, s.cache(), () => true)).toBe(0);
    expect(existsSync(path.join(s.root, 'deflated'))).toBe(false);
    // the store's three files, not the manifest made in memory, nor an ELF file relocation would rewrite
    expect(await deflateAhead([...contents, s.store.save(elf)], s.cache(), () => false)).toBe(3);
    expect(s.entries()).toHaveLength(3);
    expect(s.cache().has(digestOf(s.store, elf), 6)).toBe(false);
    // once there, passed over
    expect(await deflateAhead(contents, s.cache(), () => false)).toBe(0);
    const ahead = path.join(s.root, 'ahead.zip');
    const mtimes = () => s.entries().map((d) => statSync(path.join(d.parentPath, d.name)).mtimeMs);
    const before = mtimes();
    await writeLayerZip(storedLayer(s.store), ahead, undefined, s.cache());
    // the zip used the copies (none written again) and is byte for byte the one deflated anew
    expect(mtimes()).toEqual(before);
    expect(readFileSync(ahead).equals(readFileSync(plain))).toBe(true);
    expect(s.warned).toEqual([]);
  });

  it('the copies record how each file is held: deflated, or stored when it does not compress', async () => {
    const s = setup();
    await writeLayerZip(storedLayer(s.store), path.join(s.root, 'a.zip'), undefined, s.cache());
    const lib = digestOf(s.store, Buffer.alloc(50_000, 7));
    expect(s.cache().get(lib, 6, 50_000)?.method).toBe(8);
    // incompressible content: method 0, so the next zip stores it without trying deflate
    expect(s.cache().get(digestOf(s.store, noise), 6, noise.length)?.method).toBe(0);
    // another level is another copy
    expect(s.cache().get(lib, 9, 50_000)).toBeUndefined();
  });

  it('a copy asked for with another size is damaged: dropped, never used', async () => {
    const s = setup();
    await writeLayerZip(storedLayer(s.store), path.join(s.root, 'a.zip'), undefined, s.cache());
    const lib = digestOf(s.store, Buffer.alloc(50_000, 7));
    expect(s.cache().get(lib, 6, 49_999)).toBeUndefined();
    expect(s.warned).toEqual([expect.stringMatching(/is damaged \(the copy of 50000 bytes, not 49999\): dropped, deflating the file again$/)]);
    expect(s.cache().get(lib, 6, 50_000)).toBeUndefined();
  });

  it("what a killed writer left in .tmp goes with the next cache; a live writer's stays", () => {
    const s = setup();
    const tmp = path.join(s.root, 'deflated', '.tmp');
    mkdirSync(tmp, { recursive: true });
    // pid 2^22 + 1 is above Linux's pid_max limit: no process has it
    writeFileSync(path.join(tmp, `${2 ** 22 + 1}-abcdef`), 'half');
    writeFileSync(path.join(tmp, `${process.ppid}-abcdef`), 'in flight');
    s.cache();
    expect(readdirSync(tmp)).toEqual([`${process.ppid}-abcdef`]);
  });

  it.each<[string, (f: string) => void, RegExp]>([
    [
      'a flipped byte',
      (f) => {
        const b = readFileSync(f);
        b[b.length - 40] = b[b.length - 40]! ^ 0xff;
        writeFileSync(f, b);
      },
      /its sha256 does not match its content/,
    ],
    ['a truncated copy', (f) => writeFileSync(f, readFileSync(f).subarray(0, 10)), /too short to be one/],
    [
      "the copy of another file under this file's name",
      (f) => {
        const dirOf = path.dirname(path.dirname(f));
        const other = readdirSync(dirOf, { recursive: true, withFileTypes: true }).find((d) => d.isFile() && path.join(d.parentPath, d.name) !== f)!;
        renameSync(path.join(other.parentPath, other.name), f);
      },
      /the copy of another file/,
    ],
  ])('%s: one warning, the copy dropped, and the zip the same bytes', async (_name, damage, why) => {
    const s = setup();
    const clean = path.join(s.root, 'clean.zip');
    await writeLayerZip(storedLayer(s.store), clean, undefined, s.cache());
    const lib = digestOf(s.store, Buffer.alloc(50_000, 7));
    const f = path.join(s.root, 'deflated', lib.slice(0, 2), `${lib}.6.zlib-${process.versions.zlib}`);
    damage(f);
    const out = path.join(s.root, 'out.zip');
    await writeLayerZip(storedLayer(s.store), out, undefined, s.cache());
    expect(s.warned).toEqual([expect.stringMatching(new RegExp(`^cache: the deflated copy ${f} is damaged \\(.*\\): dropped, deflating the file again$`))]);
    expect(s.warned[0]).toMatch(why);
    expect(readFileSync(out).equals(readFileSync(clean))).toBe(true);
    // written anew: the next zip finds it sound
    s.warned.length = 0;
    await writeLayerZip(storedLayer(s.store), path.join(s.root, 'next.zip'), undefined, s.cache());
    expect(s.warned).toEqual([]);
  });
});
