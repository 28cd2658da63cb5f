import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseElf } from '../../src/elf/read.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import { readContent, type FileTree } from '../../src/tree/types.js';
import { file, treeOf } from '../helpers/tree.js';
import { run } from '../helpers/cli.js';
import { cc } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 20, class 1: linkers merge string constants by their tails, so a string a program uses
 * on its own may be the last bytes of a path relocation rewrites. binutils' ld has no "gnu" of
 * its own: it is the tail of "/usr/lib/x86_64-linux-gnu", and padding that path in the middle
 * made `ld --hash-style=gnu` fail. The programs here are compiled with the machine's gcc and ld
 * (which merge as Debian's did), relocated, and run: every string must print as it did.
 */

const M = 'x86_64-linux-gnu';
const layout = { triplet: M, keep: DEFAULT_KEEP };

function bytesOf(tree: FileTree, p: string): Buffer {
  const e = tree.get(p);
  if (e?.kind !== 'file') throw new Error(`${p} is not a file`);
  return readContent(e.content);
}

/** A program printing each of `strings` on its own line, from separate constants the linker may merge. */
function printer(strings: string[]): string {
  const decls = strings.map((s, i) => `  const char *s${i} = ${JSON.stringify(s)};`).join('\n');
  const prints = strings.map((_, i) => `  puts(s${i});`).join('\n');
  return `#include <stdio.h>\nint main(void) {\n${decls}\n${prints}\n  return 0;\n}\n`;
}

/** Runs a relocated program on this machine (it needs only libc) and returns its lines. */
async function runRelocated(data: Buffer, dir: string): Promise<string[]> {
  const exe = path.join(dir, `run-${Math.random().toString(36).slice(2)}`);
  writeFileSync(exe, data);
  chmodSync(exe, 0o755);
  const r = await run(exe, []);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trimEnd().split('\n');
}

/**
 * Offsets where `after` differs from `before` other than by a root swap (`/usr`, `/etc`, `/var`
 * to `/opt` or `/tmp`) or by giving the file a library path (program headers, the dynamic
 * section, the RPATH string).
 */
function unexplainedChanges(before: Buffer, after: Buffer): number[] {
  const elf = parseElf(after);
  const ranges: Array<[number, number]> = [];
  const phoff = Number(after.readBigUInt64LE(32));
  ranges.push([phoff, phoff + after.readUInt16LE(54) * after.readUInt16LE(56)]);
  for (const s of elf.sections) if (s.name === '.dynamic') ranges.push([s.offset, s.offset + s.size]);
  const rpath = elf.dynamic?.rpath ?? elf.dynamic?.runpath;
  if (rpath) ranges.push([rpath.offset, rpath.offset + rpath.value.length + 1]);
  const roots = ['/usr', '/etc', '/var'];
  const swapped = (i: number) => {
    for (let j = Math.max(0, i - 3); j <= i; j++) {
      const was = before.toString('latin1', j, j + 4);
      const now = after.toString('latin1', j, j + 4);
      if (roots.includes(was) && (now === '/opt' || now === '/tmp')) return true;
      // `lib` of /usr/lib/<triplet>, spelled `./.` (the first component of the relative tail)
      if (was === `lib/` && now === './.' + '/' && (before[j - 1] === 0x2f || before[j - 1] === 0)) return true;
    }
    return false;
  };
  const out: number[] = [];
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    if (before[i] === after[i] || ranges.some(([a, b]) => i >= a && i < b) || swapped(i)) continue;
    out.push(i);
  }
  return out;
}

interface Case {
  name: string;
  /** The program's strings, in the order it prints them. */
  strings: string[];
  /** The merged tail that must exist only inside a longer string (else the case tests nothing). */
  merged?: string;
  /** Other files of the package, so the rules have something to rewrite for. */
  staged: string[];
  /** What the program prints once relocated. */
  prints: string[];
}

const CASES: Case[] = [
  {
    name: "a bare libdir whose tail is another string (binutils' ld and --hash-style=gnu)",
    strings: [`/usr/lib/${M}`, 'gnu', 'mt-modules-1.0'],
    merged: 'gnu',
    staged: [`/usr/lib/${M}/mt-modules-1.0/a.mod`],
    prints: [`/opt/././${M}`, 'gnu', 'mt-modules-1.0'],
  },
  {
    name: 'a full path to a shipped file whose tail below the multiarch directory is another string',
    strings: [`/usr/lib/${M}/mt/mt.conf`, `linux-gnu/mt/mt.conf`],
    merged: 'linux-gnu/mt/mt.conf',
    staged: [`/usr/lib/${M}/mt/mt.conf`],
    prints: [`/opt/././${M}/mt/mt.conf`, 'linux-gnu/mt/mt.conf'],
  },
  {
    name: 'a sbin path whose file name is another string',
    strings: ['/usr/sbin/mt-daemon', 'mt-daemon'],
    merged: 'mt-daemon',
    staged: ['/usr/sbin/mt-daemon'],
    prints: ['/opt/sbin/mt-daemon', 'mt-daemon'],
  },
  {
    // espeak-ng names …/espeak/espeak-ng-data, which no package has, and reads …/espeak-ng-data
    name: 'a data directory derived from a path no package has, whose last component the layer ships',
    strings: [`/usr/lib/${M}/ng/ng-data`],
    staged: [`/usr/lib/${M}/ng-data/phontab`],
    prints: [`/opt/././${M}/ng/ng-data`],
  },
  {
    // kpathsea's compiled-in search path for texmf.cnf is such a list (issue 20, class 3)
    name: 'a list of three paths, each element one the layer ships',
    strings: ['/usr/share/mt/a:/usr/share/mt/b:/usr/lib/x86_64-linux-gnu/mt/c'],
    staged: ['/usr/share/mt/a/x', '/usr/share/mt/b/x', `/usr/lib/${M}/mt/c/x`],
    prints: [`/opt/share/mt/a:/opt/share/mt/b:/opt/././${M}/mt/c`],
  },
  {
    // Debian's libkpathsea really spells it as a brace list, commas between the elements; one
    // element names nothing the layer ships and one is a variable: both stay
    name: 'a brace list of paths, each element that names what the layer ships moved',
    strings: ['{/etc/mt/web2c,/usr/local/share/mt/web2c,/usr/share/mt/web2c,/usr/share/mtlive/dist/web2c,$SELFAUTOPARENT/share/mt/web2c}'],
    staged: ['/etc/mt/web2c/mt.cnf', '/usr/share/mt/web2c/x', '/usr/share/mtlive/dist/web2c/mt.cnf'],
    prints: ['{/opt/mt/web2c,/usr/local/share/mt/web2c,/opt/share/mt/web2c,/opt/share/mtlive/dist/web2c,$SELFAUTOPARENT/share/mt/web2c}'],
  },
];

describe('in-place rewrites keep every string a linker merged into a path', () => {
  const work = tempDir('yumda-merged-');
  const built = new Map<string, Buffer>();

  beforeAll(async () => {
    // -Os: gcc puts every string in one .rodata.str1.1 section (at -O2 long ones get their own,
    // aligned, which ld merges separately), so each case's tail can merge
    for (const c of CASES) built.set(c.name, (await cc(printer(c.strings), `p${built.size}`, ['-Os'], work)).data);
  }, 60_000);

  it.each(CASES)('$name', async (c) => {
    const prog = built.get(c.name)!;
    // the compiled program really has the tail only as part of the longer string
    if (c.merged) expect(prog.includes(Buffer.from(`\0${c.merged}\0`))).toBe(false);
    expect(await runRelocated(prog, work)).toEqual(c.strings);

    const staged = treeOf([file('/usr/bin/mt', prog, 0o755, 'mt'), ...c.staged.map((p) => file(p, 'x', 0o755, 'mt'))]);
    const { layer, report } = relocate({ staged, layout, recipes: [], shell: '/bin/sh' });
    const out = bytesOf(layer, '/opt/bin/mt');
    expect(await runRelocated(out, work)).toEqual(c.prints);
    // nothing past the first components of a rewritten string changed
    const rewrites = [...report.binaries.rewrittenPaths, ...report.binaries.rewrittenDirs].filter((r) => r.file === '/opt/bin/mt');
    expect(rewrites.length).toBeGreaterThan(0);
    for (const r of rewrites) expect(r.to.slice(8), `${r.from} → ${r.to}`).toBe(r.from.slice(8));
    // and every other byte of the file is the original's, but for the RPATH the layer adds
    expect(unexplainedChanges(prog, out)).toEqual([]);
  });
});

describe('an RPATH shares its bytes with a symbol name', () => {
  const work = tempDir('yumda-merged-rpath-');

  it('is moved, not rewritten in place, and the symbol is still found', async () => {
    // ld merges .dynstr tails too: the symbol plugin_init is the RUNPATH's last component
    const libDir = path.join(work, 'lib');
    mkdirSync(libDir, { recursive: true });
    const lib = await cc(
      'int plugin_init(void) { return 42; }\n',
      'libmtplug.so.1',
      ['-O2', '-shared', '-fPIC', '-Wl,-soname,libmtplug.so.1', '-Wl,--enable-new-dtags', `-Wl,-rpath,/usr/lib/${M}/mtplug/plugin_init`],
      libDir,
    );
    const rp = await run('readelf', ['-d', lib.path]);
    expect(rp.stdout).toContain(`Library runpath: [/usr/lib/${M}/mtplug/plugin_init]`);
    const dynstr = parseElf(lib.data).sections.find((x) => x.name === '.dynstr')!;
    expect(lib.data.subarray(dynstr.offset, dynstr.offset + dynstr.size).includes(Buffer.from('\0plugin_init\0'))).toBe(false);

    const staged = treeOf([file(`/usr/lib/${M}/libmtplug.so.1`, lib.data, 0o644, 'mtplug'), file(`/usr/lib/${M}/mtplug/plugin_init/x`, 'x', 0o644, 'mtplug')]);
    const { layer } = relocate({ staged, layout, recipes: [], shell: '/bin/sh' });
    const out = path.join(libDir, 'relocated', 'libmtplug.so.1');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, bytesOf(layer, '/opt/lib/libmtplug.so.1'));

    const moved = parseElf(bytesOf(layer, '/opt/lib/libmtplug.so.1')).dynamic!;
    expect(moved.runpath).toBeUndefined();
    expect(moved.rpath?.value.split(':')).toEqual(['/opt/lib/mtplug/plugin_init', '/opt/lib']);
    // a program that loads the library by path and looks the symbol up by name
    const loader = await cc(
      '#include <dlfcn.h>\n#include <stdio.h>\nint main(int c, char **v) { void *h = dlopen(v[1], RTLD_NOW); if (!h) { puts(dlerror()); return 1; }\n' +
        '  int (*f)(void) = (int (*)(void))dlsym(h, "plugin_init"); if (!f) { puts(dlerror()); return 2; } printf("%d\\n", f()); return 0; }\n',
      'loader',
      ['-O2', '-ldl'],
      work,
    );
    const r = await run(loader.path, [out]);
    expect(r.stdout.trim()).toBe('42');
    expect(r.code).toBe(0);
  }, 60_000);
});
