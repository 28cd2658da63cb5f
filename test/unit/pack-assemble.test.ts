import { describe, expect, it } from 'vitest';
import { packedLayer, packedPrograms, packedTree, unpackTools, PACK_ARCHIVE } from '../../src/pack/assemble.js';
import { bytes, readContent, type FileTree } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { UserError } from '../../src/util/errors.js';
import { setInterpreter } from '../../src/elf/patch.js';
import { parseElf } from '../../src/elf/read.js';
import { cc } from '../helpers/cc.js';

const ELF = Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(12), Buffer.from('/opt/lib\0/opt/share/x\0')]);

/** A relocated layer as relocate() leaves it: the tree under /opt and yumda's files in /opt/.yumda. */
function relocated(): FileTree {
  return treeOf([
    dir('/opt/bin'),
    file('/opt/bin/prog', ELF, 0o755),
    file('/opt/bin/wrapped', '#!/bin/sh\nexport X=/opt/share/x\nexec /opt/bin/.wrapped.real "$@"\n', 0o755),
    file('/opt/bin/.wrapped.real', ELF, 0o755),
    symlink('/opt/bin/alias', 'prog'),
    file('/opt/bin/README', 'not a program'),
    symlink('/opt/bin/dangling', 'nowhere'),
    file('/opt/lib/libx.so.1', ELF, 0o644),
    file('/opt/share/x/data', 'data'),
    file('/opt/.yumda/env', '# comment\nFONTCONFIG_PATH=/opt/etc/fonts\n'),
    file('/opt/.yumda/exec-wrapper', '#!/bin/sh\nexec "$@"\n', 0o755),
  ]);
}

describe('packedTree: what goes into the archive', () => {
  it('leaves out yumda files, moves the tree to /tmp, and names the unpack directory after its digest', () => {
    const p = packedTree(relocated());
    expect([...p.tree.keys()].some((k) => k.startsWith('/opt/.yumda'))).toBe(false);
    expect(p.topLevel).toEqual(['bin', 'lib', 'share']);
    const w = p.tree.get('/opt/bin/wrapped')!;
    expect(w.kind === 'file' && readContent(w.content).toString()).toBe('#!/bin/sh\nexport X=/tmp/share/x\nexec /tmp/bin/.wrapped.real "$@"\n');
    expect(p.unpackDir).toBe(`/tmp/yumda-pack-${p.digest.slice(0, 12)}`);
    expect(p.env).toEqual({ FONTCONFIG_PATH: '/opt/etc/fonts' }); // etc is not in this tree: stays
    expect(p.files).toBe(8);
    expect(p.unpackedBytes % 4096).toBe(0);
    expect(p.unpackedBytes).toBeGreaterThan(p.contentBytes);
  });

  it('the digest is the content: equal trees agree, one changed byte differs', () => {
    const a = packedTree(relocated());
    expect(packedTree(relocated()).digest).toBe(a.digest);
    const changed = relocated();
    changed.set('/opt/share/x/data', file('/opt/share/x/data', 'datA'));
    expect(packedTree(changed).digest).not.toBe(a.digest);
  });

  it('moves the environment with the tree when the tree has the directory', () => {
    const t = relocated();
    t.set('/opt/etc/fonts/fonts.conf', file('/opt/etc/fonts/fonts.conf', '<fontconfig/>'));
    expect(packedTree(t).env).toEqual({ FONTCONFIG_PATH: '/tmp/etc/fonts' });
  });
});

describe('packedPrograms', () => {
  it('launches executable files and links to them in /opt/bin, not wrapped binaries, data or dangling links', () => {
    expect(packedPrograms(relocated())).toEqual([
      { name: 'alias', target: 'bin/alias', argv0: 'real' },
      { name: 'prog', target: 'bin/prog', argv0: 'real' },
      { name: 'wrapped', target: 'bin/wrapped', argv0: 'real' },
    ]);
  });
});

describe('unpackTools', () => {
  const tools = treeOf([
    file('/opt/bin/zstd', ELF, 0o755),
    symlink('/opt/bin/unzstd', 'zstd'),
    file('/opt/bin/tar', ELF, 0o755),
    file('/opt/lib/libzstd.so.1', ELF),
    dir('/opt/lib/sub'),
  ]);

  it('ships the tools the build made, with their libraries, in /opt/.yumda', () => {
    const t = unpackTools({ layer: tools, runtimePackages: new Set() });
    expect(t).toMatchObject({ tar: '/opt/.yumda/bin/tar', zstd: '/opt/.yumda/bin/zstd' });
    expect(t.entries.map((e) => e.path).sort()).toEqual(['/opt/.yumda/bin/tar', '/opt/.yumda/bin/zstd', '/opt/.yumda/lib/libzstd.so.1']);
  });

  it("takes the runtime's own tar when the runtime has it (debian12)", () => {
    const noTar = new Map([...tools].filter(([p]) => p !== '/opt/bin/tar'));
    expect(unpackTools({ layer: noTar, runtimePackages: new Set(['tar']) })).toMatchObject({ tar: '/usr/bin/tar', zstd: '/opt/.yumda/bin/zstd' });
  });

  it('a self-contained tools layer (--from): its libraries and loader go along, and the tools name that loader', async () => {
    const zstd = (await cc('int main(void) { return 0; }\n', 'zstd', ['-O2'])).data;
    const own = setInterpreter(zstd, '/opt/self/lib/ld.so');
    if ('error' in own) throw new Error(own.error);
    const layer = treeOf([
      file('/opt/bin/zstd', own.data, 0o755),
      file('/opt/bin/tar', own.data, 0o755),
      file('/opt/self/lib/ld-linux-x86-64.so.2', ELF, 0o755),
      symlink('/opt/self/lib/ld.so', 'ld-linux-x86-64.so.2'),
      file('/opt/self/lib/libc.so.6', ELF),
    ]);
    const t = unpackTools({ layer, runtimePackages: new Set() });
    expect(t.entries.map((e) => e.path).sort()).toEqual([
      '/opt/.yumda/bin/tar',
      '/opt/.yumda/bin/zstd',
      '/opt/.yumda/lib/ld-linux-x86-64.so.2',
      '/opt/.yumda/lib/ld.so',
      '/opt/.yumda/lib/libc.so.6',
    ]);
    const shipped = t.entries.find((e) => e.path === '/opt/.yumda/bin/zstd')!;
    expect(shipped.kind === 'file' && parseElf(readContent(shipped.content)).interpreter).toBe('/opt/.yumda/lib/ld.so');
    expect(t.entries.find((e) => e.path === '/opt/.yumda/lib/ld.so')).toMatchObject({ kind: 'symlink', target: 'ld-linux-x86-64.so.2' });
  });

  it('refuses when neither the build nor the runtime has one', () => {
    expect(() => unpackTools({ layer: new Map(), runtimePackages: new Set(['tar']) })).toThrow(/the target's zstd package gave no \/opt\/bin\/zstd, and the runtime has no zstd/);
  });
});

describe('packedLayer: the layer Lambda gets', () => {
  it('holds the archive, the tools, a launcher per program and the exec wrapper; none of the tree', () => {
    const l = relocated();
    const packed = packedTree(l);
    const tools = unpackTools({ layer: treeOf([file('/opt/bin/zstd', ELF, 0o755), file('/opt/bin/tar', ELF, 0o755)]), runtimePackages: new Set() });
    const meta = new Map([...l].filter(([p]) => p.startsWith('/opt/.yumda')));
    const { layer, description } = packedLayer({ packed, archive: { content: bytes('zst'), bytes: 3 }, tools, meta });
    const files = [...layer.values()]
      .filter((e) => e.kind !== 'dir')
      .map((e) => e.path)
      .sort();
    expect(files).toEqual([
      '/opt/.yumda/bin/tar',
      '/opt/.yumda/bin/zstd',
      '/opt/.yumda/env',
      '/opt/.yumda/exec-wrapper',
      PACK_ARCHIVE,
      '/opt/bin/alias',
      '/opt/bin/prog',
      '/opt/bin/wrapped',
    ]);
    const launcher = layer.get('/opt/bin/prog')!;
    // a launcher sets the layer's environment too (soffice is a script no wrapper is made for)
    expect(launcher.kind === 'file' && readContent(launcher.content).toString()).toMatch(
      /\[ -n "\$\{FONTCONFIG_PATH:-\}" \] \|\| FONTCONFIG_PATH=\/opt\/etc\/fonts; export FONTCONFIG_PATH\nexec "\$_y_dir"\/bin\/prog "\$@"\n$/,
    );
    const wrapper = layer.get('/opt/.yumda/exec-wrapper')!;
    expect(wrapper.kind === 'file' && readContent(wrapper.content).toString()).toMatch(
      /_y_ready \|\| _y_unpack\nexport LD_LIBRARY_PATH=.*\/tmp\/lib\n\[ -n "\$\{FONTCONFIG_PATH:-\}" \] \|\| FONTCONFIG_PATH=\/opt\/etc\/fonts; export FONTCONFIG_PATH\nexec "\$@"\n$/,
    );
    expect(description).toMatchObject({ links: ['bin', 'lib', 'share'], libraryDirs: ['/tmp/lib'], unpackDir: packed.unpackDir, packedBytes: 3 });
  });

  it('refuses a tree without programs: one line, with what to do', () => {
    const l = treeOf([file('/opt/lib/libx.so.1', ELF)]);
    const run = () =>
      packedLayer({ packed: packedTree(l), archive: { content: bytes('z'), bytes: 1 }, tools: { entries: [], tar: '/usr/bin/tar', zstd: '/usr/bin/zstd' }, meta: new Map() });
    expect(run).toThrow(UserError);
    expect(run).toThrow(/it has no programs in \/opt\/bin to launch/);
  });
});
