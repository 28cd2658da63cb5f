import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeLayerZip } from '../../src/emit/zip.js';
import { checkContained, type LayerEntry } from '../../src/layer/entries.js';
import { layerTree, openLayer, withLayerContents } from '../../src/layer/open.js';
import { ContentStore } from '../../src/cache/content-store.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { craftZip, unicodePathField, type CraftedEntry } from '../helpers/craftzip.js';
import { manifestOf } from '../helpers/layer.js';

function zipOf(entries: CraftedEntry[]): string {
  const f = path.join(tempDir(), 'layer.zip');
  writeFileSync(f, craftZip(entries));
  return f;
}

async function refusal(entries: CraftedEntry[]): Promise<string> {
  const f = zipOf(entries);
  try {
    await openLayer(f);
  } catch (e) {
    return (e as Error).message.replace(f, 'ZIP');
  }
  throw new Error('the layer was accepted');
}

describe('reading a layer zip', () => {
  it('reads what writeLayerZip wrote: kinds, modes, symlink targets, content hashes, the manifest', async () => {
    const f = path.join(tempDir(), 'l.zip');
    const manifest = manifestOf({ requested: ['x'], packages: [{ name: 'x', version: '1', arch: 'amd64', requiredBy: [], files: 1, bytes: 5 }] });
    await writeLayerZip(
      treeOf([
        dir('/opt/bin'),
        file('/opt/bin/tool', '#!/bin/sh\n', 0o755, 'x'),
        dir('/opt/lib'),
        file('/opt/lib/libx.so.1', 'hello'),
        symlink('/opt/lib/libx.so', 'libx.so.1'),
        dir('/opt/.yumda'),
        file('/opt/.yumda/manifest.json', JSON.stringify(manifest)),
      ]),
      f,
    );
    const layer = await openLayer(f);
    expect(layer.format).toBe('zip');
    expect(layer.entries.map((e) => [e.path, e.kind, e.mode.toString(8)])).toEqual([
      ['/opt/.yumda', 'dir', '755'],
      ['/opt/.yumda/manifest.json', 'file', '644'],
      ['/opt/bin', 'dir', '755'],
      ['/opt/bin/tool', 'file', '755'],
      ['/opt/lib', 'dir', '755'],
      ['/opt/lib/libx.so', 'symlink', '777'],
      ['/opt/lib/libx.so.1', 'file', '644'],
    ]);
    expect(layer.entries.find((e) => e.path === '/opt/lib/libx.so')!.target).toBe('libx.so.1');
    expect(layer.entries.find((e) => e.path === '/opt/lib/libx.so.1')!.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(layer.manifest?.target).toBe('debian12');
    expect(layer.manifestBytes).toBe(JSON.stringify(manifest).length);
  });

  it('reads a zip made by Info-ZIP with --symlinks', async () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'src/lib'), { recursive: true });
    writeFileSync(path.join(d, 'src/lib/liba.so.1'), 'a');
    symlinkSync('liba.so.1', path.join(d, 'src/lib/liba.so'));
    const r = await run('zip', ['-q', '-r', '--symlinks', '../l.zip', 'lib'], { cwd: path.join(d, 'src') });
    expect(r.code).toBe(0);
    const layer = await openLayer(path.join(d, 'l.zip'));
    expect(layer.entries.map((e) => `${e.path}:${e.kind}${e.target ? `->${e.target}` : ''}`)).toEqual([
      '/opt/lib:dir',
      '/opt/lib/liba.so:symlink->liba.so.1',
      '/opt/lib/liba.so.1:file',
    ]);
  });

  it('writes contents only into the store, named by hash, and gives a tree over them', async () => {
    const store = new ContentStore(path.join(tempDir(), 'store'));
    const layer = await openLayer(zipOf([{ name: 'bin/' }, { name: 'bin/a', data: 'aaa', mode: 0o755 }, { name: 'bin/b', data: 'aaa' }]), { store });
    const tree = layerTree(layer);
    const a = tree.get('/opt/bin/a')!;
    expect(a).toMatchObject({ kind: 'file', mode: 0o755, size: 3 });
    expect(a.kind === 'file' && a.content.kind === 'file' && path.basename(a.content.hostPath)).toBe(layer.entries.find((e) => e.path === '/opt/bin/a')!.sha256);
    expect(readdirSync(store.dir).length).toBe(1); // two equal files, one blob
  });

  it('removes its temporary directory after use', async () => {
    const tmp = tempDir();
    const zip = zipOf([{ name: 'a', data: 'x' }]);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      let seen = '';
      await withLayerContents(zip, async (_layer, tree) => {
        const e = tree.get('/opt/a')!;
        seen = e.kind === 'file' && e.content.kind === 'file' ? e.content.hostPath : '';
        expect(seen.startsWith(tmp + '/')).toBe(true);
        expect(readFileSync(seen, 'utf8')).toBe('x');
      });
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });
});

describe('refusing layers that reach outside /opt', () => {
  it('an entry with ..', async () => {
    expect(await refusal([{ name: 'bin/' }, { name: '../escape.txt', data: 'x' }])).toBe("ZIP: entry '../escape.txt' climbs out of the layer with '..' (refusing to read it)");
    expect(await refusal([{ name: 'bin/../../x', data: 'x' }])).toMatch(/climbs out of the layer/);
  });

  it('an absolute entry name', async () => {
    expect(await refusal([{ name: '/etc/cron.d/x', data: 'x' }])).toBe("ZIP: entry '/etc/cron.d/x' is an absolute path; layer entries are relative to /opt (refusing to read it)");
  });

  it('a backslash name that climbs out once read as a path', async () => {
    expect(await refusal([{ name: '..\\..\\x', data: 'x' }])).toMatch(/climbs out of the layer/);
  });

  it('symlinks out of /opt: relative, absolute, and through another link', async () => {
    expect(await refusal([{ name: 'etc', kind: 'symlink', data: '../etc' }])).toBe("ZIP: symlink 'etc' -> '../etc' points outside /opt (refusing to read it)");
    expect(
      await refusal([
        { name: 'lib/', kind: 'dir' },
        { name: 'lib/passwd', kind: 'symlink', data: '/etc/passwd' },
      ]),
    ).toMatch(/symlink 'lib\/passwd' -> '\/etc\/passwd' points outside \/opt/);
    // each link alone looks harmless; followed, the second lands in /
    expect(
      await refusal([
        { name: 'a/b/c/', kind: 'dir' },
        { name: 'a/b/c/top', kind: 'symlink', data: '/opt' },
        { name: 'a/b/c/up', kind: 'symlink', data: 'top/../../..' },
      ]),
    ).toMatch(/symlink 'a\/b\/c\/up' -> 'top\/..\/..\/..' points outside \/opt/);
  });

  it('a symlink out through another: the message names the target that left', async () => {
    expect(
      await refusal([
        { name: 'lib/', kind: 'dir' },
        { name: 'lib/a', kind: 'symlink', data: 'b/x' },
        { name: 'lib/b', kind: 'symlink', data: '../..' },
      ]),
    ).toMatch(/symlink 'lib\/a' -> 'b\/x' points outside \/opt \(through '\.\.\/\.\.'\)/);
    expect(
      await refusal([
        { name: 'bin/', kind: 'dir' },
        { name: 'bin/sh', kind: 'symlink', data: 'x-dash' },
        { name: 'bin/x-dash', kind: 'symlink', data: '/bin/dash' },
      ]),
    ).toMatch(/symlink 'bin\/sh' -> 'x-dash' points outside \/opt \(through '\/bin\/dash'\)/);
  });

  it('an entry below a symlink (a write through the link)', async () => {
    expect(
      await refusal([
        { name: 'lib', kind: 'symlink', data: 'share' },
        { name: 'share/', kind: 'dir' },
        { name: 'lib/x', data: 'x' },
      ]),
    ).toMatch(/entry 'lib\/x' lies under the symlink 'lib' -> 'share'/);
  });

  it('duplicate entries', async () => {
    expect(
      await refusal([
        { name: 'a', data: '1' },
        { name: 'a', data: '2' },
      ]),
    ).toBe("ZIP: entry 'a' appears twice");
  });

  it('accepts links that stay inside, dangling ones and absolute links into /opt', async () => {
    const f = zipOf([
      { name: 'lib/', kind: 'dir' },
      { name: 'lib/libx.so.1', data: 'x' },
      { name: 'lib/libx.so', kind: 'symlink', data: 'libx.so.1' },
      { name: 'lib/abs.so', kind: 'symlink', data: '/opt/lib/libx.so.1' },
      { name: 'lib/gone.so', kind: 'symlink', data: 'nothere.so' },
      { name: 'bin/', kind: 'dir' },
      { name: 'bin/up', kind: 'symlink', data: '../lib/./libx.so' },
    ]);
    expect((await openLayer(f)).entries).toHaveLength(7);
  });

  it('checkContained refuses an entry under a file', () => {
    const e = (p: string, kind: LayerEntry['kind']): LayerEntry => ({ path: p, kind, mode: 0o644, size: 0 });
    expect(() => checkContained([e('/opt/a', 'file'), e('/opt/a/b', 'file')], 'L')).toThrow("L: entry 'a/b' lies under 'a', which is a file");
  });
});

describe('archives that are not layer zips', () => {
  it('a truncated zip: one line naming the file', async () => {
    const d = tempDir();
    const good = path.join(d, 'good.zip');
    await writeLayerZip(treeOf([file('/opt/a', randomBytes(20000))]), good);
    const cut = path.join(d, 'cut.zip');
    writeFileSync(cut, readFileSync(good).subarray(0, 2000));
    await expect(openLayer(cut)).rejects.toThrow(/cut\.zip is not a readable zip: End of central directory record signature not found/);
  });

  it('a text file, an empty file, a directory, a missing file', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'notes.txt'), 'hello\n');
    writeFileSync(path.join(d, 'empty.zip'), '');
    await expect(openLayer(path.join(d, 'notes.txt'))).rejects.toThrow(/notes\.txt is neither a zip nor an image tarball \(it starts with "hello\\n"\)/);
    await expect(openLayer(path.join(d, 'empty.zip'))).rejects.toThrow(/empty\.zip is neither a zip nor an image tarball/);
    await expect(openLayer(d)).rejects.toThrow(/is a directory/);
    await expect(openLayer(path.join(d, 'nope.zip'))).rejects.toThrow(/nope\.zip: cannot read \(ENOENT\)/);
  });
});

describe('entry names: UTF-8 wherever the zip holds it (issue 19, item 8)', () => {
  const cp437e = Buffer.from([0x63, 0x61, 0x66, 0x82]); // "café" in CP437
  const utf8 = Buffer.from('bin/café');
  const names = async (f: string) => (await openLayer(f)).entries.map((e) => e.path).filter((p) => p !== '/opt/bin');
  const cases: Array<[string, CraftedEntry, string]> = [
    ['UTF-8 bytes, no flag (Info-ZIP zip)', { name: '', rawName: utf8, noUtf8Flag: true, data: 'x' }, '/opt/bin/café'],
    ['UTF-8 bytes with the flag', { name: 'bin/café', data: 'x' }, '/opt/bin/café'],
    ['CP437 bytes, no flag', { name: '', rawName: Buffer.concat([Buffer.from('bin/'), cp437e]), noUtf8Flag: true, data: 'x' }, '/opt/bin/café'],
    [
      'a Unicode Path field (0x7075) over a CP437 name',
      { name: '', rawName: Buffer.from('bin/cafe'), noUtf8Flag: true, extra: [unicodePathField(Buffer.from('bin/cafe'), 'bin/café')], data: 'x' },
      '/opt/bin/café',
    ],
    [
      'a stale Unicode Path field (its CRC is of another name) is ignored',
      { name: '', rawName: Buffer.from('bin/cafe'), noUtf8Flag: true, extra: [unicodePathField(Buffer.from('bin/other'), 'bin/café')], data: 'x' },
      '/opt/bin/cafe',
    ],
  ];
  it.each(cases)('%s', async (_, entry, want) => {
    expect(await names(zipOf([{ name: 'bin/', kind: 'dir' }, entry]))).toEqual([want]);
  });

  it("Info-ZIP's own zip -r of bin/café: inspect shows it and image --layer writes opt/bin/café", async () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'bin'));
    writeFileSync(path.join(d, 'bin', 'café'), '#!/bin/sh\n', { mode: 0o755 });
    const zip = path.join(d, 'cafe.zip');
    expect((await run('zip', ['-qr', zip, 'bin'], { cwd: d, env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } })).code).toBe(0);
    expect(await names(zip)).toEqual(['/opt/bin/café']);
    const inspect = await runYumda(['inspect', zip, '--all']);
    expect(inspect.stdout).toContain('bin/café');
    expect(inspect.stdout).not.toContain('├');
    const oci = path.join(d, 'cafe.tar');
    expect((await runYumda(['image', '--layer', zip, '--oci', oci])).code).toBe(0);
    const blob = (JSON.parse((await run('tar', ['-xOf', oci, 'manifest.json'])).stdout) as Array<{ Layers: string[] }>)[0]!.Layers[0]!;
    const layer = (await run('sh', ['-c', `tar -xOf '${oci}' '${blob}' | tar -tz`])).stdout;
    expect(layer.split('\n')).toContain('opt/bin/café');
  });
});
