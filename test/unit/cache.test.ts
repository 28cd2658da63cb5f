import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ContentStore } from '../../src/cache/content-store.js';
import { cleanCache } from '../../src/cache/info.js';
import { JsonStore } from '../../src/cache/json-store.js';
import { cachePaths } from '../../src/cache/paths.js';
import { PackageCache } from '../../src/cache/packages.js';
import { layerDigest, writeLayerZip, writeLayerZipCached } from '../../src/emit/zip.js';
import type { BuildSession } from '../../src/stage/session.js';
import { runPostStage } from '../../src/stage/staging.js';
import { stagedFileLimit } from '../../src/stage/limits.js';
import { applicableRecipes, loadRecipes } from '../../src/recipes/load.js';
import { parseArch } from '../../src/registry/arch.js';
import { loadTarget } from '../../src/registry/load.js';
import type { Plan, PlannedPackage } from '../../src/resolve/plan.js';
import type { Runner } from '../../src/runner/types.js';
import type { FileTree, TreeEntry } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { writeFileAtomicSync } from '../../src/util/atomic.js';
import { sha256 } from '../../src/util/hash.js';
import { tempDir } from '../helpers/tmp.js';

const flipByte = (f: string, at: number) => {
  const b = readFileSync(f);
  b[at] = b[at]! ^ 0xff;
  writeFileSync(f, b);
};

/** Warnings a cache gave, and the function it gave them through. */
function collector(): { lines: string[]; warn: (l: string) => void } {
  const lines: string[] = [];
  return { lines, warn: (l) => lines.push(l) };
}

describe('writeFileAtomicSync', () => {
  it('replaces a file whole and leaves no temporary behind, also when the write fails', () => {
    const d = tempDir();
    const f = path.join(d, 'x.json');
    writeFileAtomicSync(f, 'one');
    writeFileAtomicSync(f, Buffer.from('two'));
    expect(readFileSync(f, 'utf8')).toBe('two');
    mkdirSync(path.join(d, 'isdir'));
    expect(() => writeFileAtomicSync(path.join(d, 'isdir'), 'x')).toThrow();
    expect(readdirSync(d).sort()).toEqual(['isdir', 'x.json']);
  });
});

describe('content store', () => {
  const data = Buffer.from('\x7fELF pretend this is a library'.repeat(100));

  it.each([
    ['a flipped byte', (f: string) => flipByte(f, 100), /sha256 is/],
    ['a truncated file', (f: string) => truncateSync(f, 10), /10 bytes instead of 3000/],
  ])('hands out a file only when its bytes hash to its name: %s is damaged', (_name, damage, reason) => {
    const root = tempDir();
    const { hash, hostPath } = new ContentStore(root).put(data);
    damage(hostPath);
    // a new store, as the next build opens it: nothing verified yet
    const store = new ContentStore(root);
    const got = store.get(hash, data.length);
    expect(got).toMatchObject({ damaged: expect.stringMatching(reason) });
    // put writes a damaged copy anew instead of trusting that the name exists
    store.put(data);
    expect(readFileSync(hostPath).equals(data)).toBe(true);
    expect(new ContentStore(root).get(hash, data.length)).toEqual({ kind: 'file', hostPath, sha256: hash });
  });

  it('says missing, not damaged, for a file cleaned away', () => {
    const store = new ContentStore(tempDir());
    expect(store.get(sha256('gone'), 4)).toEqual({ missing: true });
  });
});

describe('cache records', () => {
  const plan: Plan & { notes: string[] } = {
    packages: [
      {
        name: 'jq',
        version: '1.6-2.1+deb12u3',
        arch: 'amd64',
        downloadSize: 64400,
        installedSize: 113664,
        requiredBy: ['jq'],
        requested: true,
        provides: [],
        depends: [['libjq1'], ['libc6']],
        sourcePackage: 'jq',
        checksum: { algorithm: 'sha256', value: sha256('jq') },
        filename: 'pool/main/j/jq/jq_1.6-2.1+deb12u3_amd64.deb',
      },
    ],
    fromRuntime: ['libc6'],
    skew: [],
    notes: ['rpm plans carry notes'],
  };
  const record = { plan, requests: [{ name: 'jq' }], imageIdentity: { id: 'sha256:1', repoDigests: [] } };
  type Edit = (text: string) => string;
  const reseal: (edit: (v: typeof record) => unknown) => Edit = (edit) => (text) => {
    const doc = JSON.parse(text) as { value: typeof record };
    const value = JSON.stringify(edit(doc.value));
    return `{"v":2,"sha256":"${sha256(value)}","value":${value}}`;
  };

  it('a record comes back as it was stored, whitespace changes aside', () => {
    const store = new JsonStore<typeof record>(tempDir(), 'cache-plan');
    store.put('k', record);
    expect(store.get('k')).toMatchObject({ value: record });
    writeFileSync(store.file('k'), JSON.stringify(JSON.parse(readFileSync(store.file('k'), 'utf8')), null, 2));
    expect(store.get('k')).toMatchObject({ value: record });
  });

  it.each<[string, Edit, RegExp]>([
    ['truncated', (t) => t.slice(0, 100), /not valid JSON/],
    ['a package removed by hand (an empty plan)', (t) => t.replace(/"packages":\[.*\],"fromRuntime"/, '"packages":[],"fromRuntime"'), /checksum does not match/],
    ['a value edited by hand', (t) => t.replace('"1.6-2.1+deb12u3"', '"9.9"'), /checksum does not match/],
    ['resealed, but of another shape', reseal((v) => ({ ...v, plan: { ...v.plan, packages: [{ name: 'jq' }] } })), /missing required field 'version'/],
    ['resealed, with a field of the wrong type', reseal((v) => ({ ...v, requests: 'jq' })), /field 'requests' must be array/],
    ['not a record', () => '{"v":2,"hello":1}', /not a sealed cache record/],
  ])('a record %s is reported damaged and removed', (_name, edit, reason) => {
    const store = new JsonStore<typeof record>(tempDir(), 'cache-plan');
    store.put('k', record);
    writeFileSync(store.file('k'), edit(readFileSync(store.file('k'), 'utf8')));
    expect(store.get('k')).toEqual({ damaged: expect.stringMatching(reason), file: store.file('k') });
    expect(existsSync(store.file('k'))).toBe(false);
    expect(store.get('k')).toBeUndefined();
  });

  it("a record of another yumda's format is a plain miss, not damage", () => {
    const store = new JsonStore<typeof record>(tempDir(), 'cache-plan');
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(store.file('old'), JSON.stringify([{ p: '/x', k: 'd', m: 493 }]));
    writeFileSync(store.file('v1'), JSON.stringify({ v: 1, entries: [], alternatives: '' }));
    expect(store.get('old')).toBeUndefined();
    expect(store.get('v1')).toBeUndefined();
  });
});

describe('cached trees', () => {
  const pkg: PlannedPackage = { name: 'libx1', version: '1.0', arch: 'amd64', downloadSize: 1, installedSize: 1, requiredBy: [], requested: true, provides: [], depends: [] };
  const lib = Buffer.alloc(4096, 3);

  function cached(): { root: string; store: ContentStore; libHash: string } {
    const root = tempDir();
    const store = new ContentStore(path.join(root, 'content'));
    const tree = treeOf([
      dir('/usr'),
      { kind: 'file', path: '/usr/lib/libx.so.1', mode: 0o644, size: lib.length, content: store.save(lib) },
      symlink('/usr/lib/libx.so', 'libx.so.1'),
      file('/usr/share/x.conf', 'conf\n'),
    ]);
    new PackageCache(path.join(root, 'packages'), store, () => undefined).put(pkg, { tree, alternatives: 'alt' });
    return { root, store, libHash: sha256(lib) };
  }

  it('a package comes back with every entry, its content verified', () => {
    const { root } = cached();
    const w = collector();
    const got = new PackageCache(path.join(root, 'packages'), new ContentStore(path.join(root, 'content')), w.warn).get(pkg)!;
    expect([...got.tree.keys()]).toEqual(['/usr', '/usr/lib/libx.so.1', '/usr/lib/libx.so', '/usr/share/x.conf']);
    expect(got.tree.get('/usr/lib/libx.so.1')).toMatchObject({ content: { sha256: sha256(lib) }, pkg: 'libx1' });
    expect(got.alternatives).toBe('alt');
    expect(w.lines).toEqual([]);
  });

  it('a package with a damaged file is a miss, with one line naming the file, and the file is dropped', () => {
    const { root, store, libHash } = cached();
    flipByte(store.pathOf(libHash), 7);
    const w = collector();
    expect(new PackageCache(path.join(root, 'packages'), new ContentStore(path.join(root, 'content')), w.warn).get(pkg)).toBeUndefined();
    expect(w.lines).toEqual([
      expect.stringMatching(/^cache: \/usr\/lib\/libx\.so\.1 in the cached package libx1 1\.0 \(.*\) is damaged \(its sha256 is .*\): dropped, unpacking libx1 again$/),
    ]);
    expect(existsSync(store.pathOf(libHash))).toBe(false);
  });

  it('a package whose content was cleaned away is a quiet miss', async () => {
    const { root } = cached();
    await cleanCache(cachePaths(root), ['content']);
    const w = collector();
    expect(new PackageCache(path.join(root, 'packages'), new ContentStore(path.join(root, 'content')), w.warn).get(pkg)).toBeUndefined();
    expect(w.lines).toEqual([]);
  });

  it('a package index with an entry removed by hand is dropped with one line', () => {
    const { root } = cached();
    const f = readdirSync(path.join(root, 'packages'))[0]!;
    const text = readFileSync(path.join(root, 'packages', f), 'utf8');
    writeFileSync(path.join(root, 'packages', f), text.replace(/\{"p":"\/usr\/lib\/libx\.so\.1"[^}]*\},/, ''));
    const w = collector();
    expect(new PackageCache(path.join(root, 'packages'), new ContentStore(path.join(root, 'content')), w.warn).get(pkg)).toBeUndefined();
    expect(w.lines).toEqual([
      expect.stringMatching(/^cache: the cached package libx1 1\.0 \(.*\.json\) is damaged \(its checksum does not match its content\): dropped, unpacking libx1 again$/),
    ]);
  });
});

describe('post-stage cache (recipe commands)', () => {
  // regression (issue 11 §2): after `cache clean --only content`, a cache hit returned entries that
  // pointed at deleted files. Now the same TreeCache as the package cache serves them: a miss, and
  // the commands run again.
  it('after the content is cleaned, the commands run again instead of returning entries to deleted files', async () => {
    const root = tempDir();
    const paths = cachePaths(root);
    const target = loadTarget('debian12');
    const arch = parseArch('x86_64');
    const graphviz: PlannedPackage = {
      name: 'graphviz',
      version: '2.42.2-7',
      arch: 'amd64',
      downloadSize: 1,
      installedSize: 1,
      requiredBy: ['graphviz'],
      requested: true,
      provides: [],
      depends: [],
    };
    const plan: Plan = { packages: [graphviz], fromRuntime: [], skew: [] };
    const recipes = applicableRecipes(loadRecipes(), 'deb', plan.packages);
    expect(recipes.map((r) => r.name)).toEqual(['graphviz']);

    // what the recipe's `dot -c` writes, as the build container's archive API would return it
    let runs = 0;
    const runner: Runner = {
      async exec(cmd) {
        if (cmd[0] === 'bash') runs++;
        return { exitCode: 0, stdout: '', stderr: '' };
      },
      async putArchive(_p, tarball) {
        if (tarball instanceof Readable) tarball.resume();
      },
      async getArchive() {
        const pack = tar.pack();
        pack.entry({ name: 'root', type: 'directory', mode: 0o755 });
        pack.entry({ name: 'root/usr/lib/x86_64-linux-gnu/graphviz/config6a', mode: 0o644 }, `config for run ${runs}\n`);
        pack.finalize();
        return pack as unknown as Readable;
      },
    };
    const session = { runnerFor: async () => ({ runner }) } as unknown as BuildSession;
    const events = { step: () => undefined, detail: () => undefined };
    const stage = async (): Promise<{ tree: FileTree; lines: string[] }> => {
      const w = collector();
      const tree = treeOf([dir('/usr')]);
      await runPostStage({
        recipes,
        target,
        arch,
        plan,
        staged: tree,
        session,
        events,
        store: new ContentStore(paths.content),
        cacheDir: paths.postStage,
        warn: w.warn,
        fileLimit: stagedFileLimit('layer'),
      });
      return { tree, lines: w.lines };
    };
    const fileEntries = (t: FileTree) => [...t.values()].filter((e): e is Extract<TreeEntry, { kind: 'file' }> => e.kind === 'file');

    const first = await stage();
    expect(runs).toBe(1);
    const second = await stage();
    expect(runs).toBe(1); // served from the cache
    expect(fileEntries(second.tree).map((e) => e.path)).toEqual(['/usr/lib/x86_64-linux-gnu/graphviz/config6a']);
    expect(fileEntries(second.tree)[0]).toMatchObject({ pkg: 'graphviz', content: fileEntries(first.tree)[0]!.content });

    await cleanCache(paths, ['content']);
    const third = await stage();
    expect(runs).toBe(2);
    for (const e of fileEntries(third.tree)) {
      if (e.content.kind !== 'file') throw new Error('expected content in the store');
      expect(existsSync(e.content.hostPath)).toBe(true);
    }
    expect(third.lines).toEqual([]);
  });
});

describe('layer zip cache', () => {
  const setup = () => {
    const root = tempDir();
    const store = new ContentStore(path.join(root, 'content'));
    const bin = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(20000, 1)]);
    const layer = treeOf([dir('/opt/bin'), { kind: 'file', path: '/opt/bin/tool', mode: 0o755, size: bin.length, content: store.save(bin) }, file('/opt/etc/x.conf', 'x\n')]);
    return { root, layer, zips: path.join(root, 'zips') };
  };

  // regression (issue 10 pt 3): the digest took a content file's name for its hash, so a corrupt
  // zip made from a corrupt file kept coming back after the file was repaired
  it('the layer digest hashes bytes it has not verified, whatever the file is named', () => {
    const d = tempDir();
    const named = path.join(d, sha256('original'));
    writeFileSync(named, 'original');
    const layer = () => treeOf([{ kind: 'file', path: '/opt/f', mode: 0o644, size: 8, content: { kind: 'file', hostPath: named } }]);
    const before = layerDigest(layer());
    writeFileSync(named, 'damaged!');
    expect(layerDigest(layer())).not.toBe(before);
  });

  it('reuses an intact cached zip without a warning', async () => {
    const { root, layer, zips } = setup();
    const w = collector();
    const a = await writeLayerZipCached(layer, path.join(root, 'a.zip'), zips, w.warn);
    const b = await writeLayerZipCached(layer, path.join(root, 'b.zip'), zips, w.warn);
    expect([a.reused, b.reused]).toEqual([false, true]);
    expect(readFileSync(path.join(root, 'b.zip')).equals(readFileSync(path.join(root, 'a.zip')))).toBe(true);
    expect(w.lines).toEqual([]);
  });

  it.each<[string, (f: string) => void, RegExp]>([
    ['a flipped byte', (f) => flipByte(f, 200), /its sha256 does not match the one recorded/],
    ['truncation', (f) => truncateSync(f, 1000), /1000 bytes instead of \d+/],
  ])('a cached zip damaged by %s is not copied out: one line, and the zip is written anew', async (_name, damage, reason) => {
    const { root, layer, zips } = setup();
    await writeLayerZipCached(layer, path.join(root, 'clean.zip'), zips, () => undefined);
    const cachedZip = readdirSync(zips).find((f) => f.endsWith('.zip'))!;
    damage(path.join(zips, cachedZip));
    const w = collector();
    const r = await writeLayerZipCached(layer, path.join(root, 'again.zip'), zips, w.warn);
    expect(r.reused).toBe(false);
    expect(w.lines).toEqual([
      expect.stringMatching(new RegExp(`^cache: the cached layer zip \\(.*${cachedZip}\\) is damaged \\(${reason.source}.*\\): dropped, writing the zip anew$`)),
    ]);
    expect(readFileSync(path.join(root, 'again.zip')).equals(readFileSync(path.join(root, 'clean.zip')))).toBe(true);
    // and the cache holds a good copy again
    const w2 = collector();
    expect((await writeLayerZipCached(layer, path.join(root, 'third.zip'), zips, w2.warn)).reused).toBe(true);
    expect(w2.lines).toEqual([]);
  });

  it('the zip writer refuses verified content whose bytes changed since, and writes nothing', async () => {
    const { root, layer } = setup();
    const e = layer.get('/opt/bin/tool')!;
    if (e.kind !== 'file' || e.content.kind !== 'file') throw new Error('expected stored content');
    flipByte(e.content.hostPath, 3);
    const out = path.join(root, 'out.zip');
    await expect(writeLayerZip(layer, out)).rejects.toThrow(/changed while the layer was being written/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('a cache entry that is not a regular file is damage like any other (issue 19, item 11)', () => {
  const data = Buffer.from('the bytes of a cached file\n');
  const hash = sha256(data);
  const kinds: Array<[string, (p: string) => void, RegExp]> = [
    ['a directory', (p) => mkdirSync(path.join(p, 'inside'), { recursive: true }), /^a directory, not a file$/],
    [
      'a symlink to the right bytes',
      (p) => {
        const copy = path.join(tempDir(), 'copy');
        writeFileSync(copy, data);
        symlinkSync(copy, p);
      },
      /^a symlink to .*copy, not a file$/,
    ],
    ['a FIFO', (p) => execFileSync('mkfifo', [p]), /^a FIFO, not a file$/],
  ];

  it.each(kinds)('content: %s is reported, dropped and written anew', (_, make, why) => {
    const store = new ContentStore(tempDir());
    const p = store.pathOf(hash);
    mkdirSync(path.dirname(p), { recursive: true });
    make(p);
    const got = store.get(hash, data.length);
    expect('damaged' in got && got.damaged).toMatch(why);
    store.drop(hash);
    expect(existsSync(p)).toBe(false);
    make(p);
    // put over it (no drop first) writes the file anew too
    expect(store.put(data).hostPath).toBe(p);
    expect(lstatSync(p).isFile() && readFileSync(p).equals(data)).toBe(true);
  });

  it.each(kinds)('a JSON record: %s is reported and dropped; put writes it anew', (_, make, why) => {
    const records = new JsonStore<{ sha256: string; bytes: number }>(tempDir(), 'cache-zip');
    mkdirSync(records.dir, { recursive: true });
    make(records.file('k'));
    const got = records.get('k');
    expect(got && 'damaged' in got && got.damaged).toMatch(why);
    expect(existsSync(records.file('k'))).toBe(false);
    make(records.file('k'));
    const value = { sha256: 'a'.repeat(64), bytes: 100 };
    records.put('k', value);
    expect(records.get('k')).toMatchObject({ value });
  });
});
