import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ELF_MAGIC, ET_DYN, isElf, parseElf, ElfError } from '../../src/elf/read.js';
import { readElfEntry } from '../../src/elf/graph.js';
import { checkClosure } from '../../src/check/closure.js';
import { relocate } from '../../src/relocate/relocate.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { file, treeOf } from '../helpers/tree.js';
import { cc, libAndProgram } from '../helpers/cc.js';
import { run } from '../helpers/cli.js';

/** What binutils' readelf says of a file's dynamic section, for comparison. */
async function readelfDynamic(file: string): Promise<{ needed: string[]; soname?: string; runpath?: string; rpath?: string }> {
  const r = await run('readelf', ['-dW', file]);
  const out: { needed: string[]; soname?: string; runpath?: string; rpath?: string } = { needed: [] };
  for (const line of r.stdout.split('\n')) {
    const m = /\((NEEDED|SONAME|RUNPATH|RPATH)\)\s+\S+.*?\[(.*)\]/.exec(line);
    if (!m) continue;
    if (m[1] === 'NEEDED') out.needed.push(m[2]!);
    else out[m[1]!.toLowerCase() as 'soname' | 'runpath' | 'rpath'] = m[2]!;
  }
  return out;
}

describe('ELF reader', () => {
  it('reads DT_NEEDED, DT_SONAME and the interpreter as readelf does', async () => {
    const { dir, lib, prog } = await libAndProgram();
    const l = parseElf(lib);
    expect(l.type).toBe(ET_DYN);
    expect(l.dynamic?.soname).toBe('libanswer.so.1');
    expect(l.interpreter).toBeUndefined();
    const p = parseElf(prog);
    expect(p.class).toBe(64);
    expect(p.machine).toBe(process.arch === 'arm64' ? 183 : 62);
    expect(p.interpreter).toMatch(/^\/lib(64)?\/ld-linux/);
    const ref = await readelfDynamic(`${dir}/prog`);
    expect(p.dynamic?.needed).toEqual(ref.needed);
    expect(p.dynamic?.needed).toContain('libanswer.so.1');
    expect(p.sections.map((s) => s.name)).toEqual(expect.arrayContaining(['.dynstr', '.dynamic', '.rodata', '.text']));
  });

  it('reads RUNPATH and RPATH with their file offsets', async () => {
    const withRunpath = await cc('int main(void){return 0;}\n', 'rp', ['-Wl,-rpath,/usr/lib/private:$ORIGIN/../lib', '-Wl,--enable-new-dtags']);
    const e = parseElf(withRunpath.data);
    expect(e.dynamic?.runpath?.value).toBe('/usr/lib/private:$ORIGIN/../lib');
    expect(withRunpath.data.toString('latin1', e.dynamic!.runpath!.offset, e.dynamic!.runpath!.offset + 17)).toBe('/usr/lib/private:');
    expect((await readelfDynamic(withRunpath.path)).runpath).toBe('/usr/lib/private:$ORIGIN/../lib');
    const withRpath = await cc('int main(void){return 0;}\n', 'r', ['-Wl,-rpath,/opt/x', '-Wl,--disable-new-dtags']);
    expect(parseElf(withRpath.data).dynamic?.rpath?.value).toBe('/opt/x');
  });

  it('reads a static executable (no dynamic section) and refuses non-ELF and truncated input', async () => {
    const st = await cc('int main(void){return 0;}\n', 'static', ['-static']).catch(() => undefined);
    if (st) expect(parseElf(st.data).dynamic).toBeUndefined();
    expect(isElf(Buffer.from('#!/bin/sh\n'.padEnd(64)))).toBe(false);
    expect(() => parseElf(Buffer.from('not elf'.padEnd(64)))).toThrow(ElfError);
    const real = readFileSync('/bin/ls');
    expect(() => parseElf(real.subarray(0, 40))).toThrow();
  });
});

describe('closure check', () => {
  it("finds a needed library in the layer, in the runtime, or reports it; the loader is always the runtime's", async () => {
    const { checkClosure } = await import('../../src/check/closure.js');
    const { treeOf, file } = await import('../helpers/tree.js');
    const { lib, prog } = await libAndProgram();
    const layer = treeOf([file('/opt/bin/prog', prog, 0o755), file('/opt/lib/libanswer.so.1', lib)]);
    expect(checkClosure(layer, ['libc.so.6']).missing).toEqual([]);
    const without = treeOf([file('/opt/bin/prog', prog, 0o755)]);
    expect(checkClosure(without, ['libc.so.6']).missing).toEqual([{ file: '/opt/bin/prog', soname: 'libanswer.so.1' }]);
    expect(checkClosure(layer, []).missing).toEqual([{ file: '/opt/bin/prog', soname: 'libc.so.6' }]);
  });
});

describe('files that must be ELF and are not readable ones (issue 19, item 17)', () => {
  const cases = async () => {
    const { lib, prog } = await libAndProgram();
    const garbage = Buffer.concat([ELF_MAGIC, Buffer.alloc(300, 0xff)]);
    const entries: Array<[string, string, Buffer, number, RegExp | 'elf' | undefined]> = [
      ['a program', '/usr/bin/prog', prog, 0o755, 'elf'],
      ['a library', '/usr/lib/x86_64-linux-gnu/libanswer.so.1', lib, 0o644, 'elf'],
      ['an empty program', '/usr/bin/zero', Buffer.alloc(0), 0o755, /^empty \(0 bytes\), where a program is expected$/],
      ['an empty library', '/usr/lib/x86_64-linux-gnu/libzero.so.2', Buffer.alloc(0), 0o644, /^empty \(0 bytes\), where a shared library is expected$/],
      ['a program cut off in its program headers', '/usr/bin/cut', prog.subarray(0, 200), 0o755, /^truncated: 200 bytes \(truncated ELF file/],
      ['a program cut off in its code', '/usr/bin/cut2', prog.subarray(0, 2000), 0o755, /^truncated: 2000 bytes, its loadable segments end at byte \d+$/],
      ['a library cut off inside its header', '/usr/lib/x86_64-linux-gnu/libcut.so.1', lib.subarray(0, 40), 0o644, /^truncated: 40 bytes, shorter than an ELF header$/],
      ['three bytes of the magic', '/usr/bin/three', ELF_MAGIC.subarray(0, 3), 0o755, /^truncated: 3 bytes/],
      ['ELF magic and garbage', '/usr/lib/x86_64-linux-gnu/libgarbage.so.1', garbage, 0o644, /^a malformed ELF file \(unknown ELF class 255\)$/],
      [
        'garbage named as a library',
        '/usr/lib/x86_64-linux-gnu/libnot.so.1',
        Buffer.from([1, 2, 0, 3]),
        0o644,
        /^not an ELF file \(4 bytes\), where a shared library is expected$/,
      ],
      ['binary garbage as a program', '/usr/bin/junk', Buffer.from([1, 2, 0, 3]), 0o755, /^neither an ELF file nor a script/],
      ['a linker script', '/usr/lib/x86_64-linux-gnu/libc.so', Buffer.from('/* GNU ld script */\nGROUP ( /lib/x86_64-linux-gnu/libc.so.6 )\n'), 0o644, undefined],
      ['a linker script after two comments, one of stars', '/usr/lib/x86_64-linux-gnu/libd.so', Buffer.from('/* a */\n/*** b **/ INPUT ( libd.so.1 )\n'), 0o644, undefined],
      // the earlier pattern backtracked exponentially on this (the build hung): it must answer at once
      [
        'many comments and no command, named as a library',
        '/usr/lib/x86_64-linux-gnu/libcomments.so',
        Buffer.from('/* x */ '.repeat(500)),
        0o644,
        /^not an ELF file \(4000 bytes\)/,
      ],
      ['a script', '/usr/bin/script', Buffer.from('#!/bin/sh\necho hi\n'), 0o755, undefined],
      ['an empty data file', '/usr/share/x/empty', Buffer.alloc(0), 0o644, undefined],
    ];
    return entries;
  };

  it('readElfEntry: the object, why it is not one, or nothing to say', async () => {
    for (const [what, p, data, mode, want] of await cases()) {
      const r = readElfEntry(file(p, data, mode));
      if (want === undefined) expect(r, what).toBeUndefined();
      else if (want === 'elf') expect(r && 'elf' in r, what).toBe(true);
      else expect(r && 'broken' in r ? r.broken : r, what).toMatch(want);
    }
  });

  it('relocation and the closure check report each, by its place in the layer', async () => {
    const all = await cases();
    const { layer, report } = relocate({
      staged: treeOf(all.map(([, p, data, mode]) => file(p, data, mode))),
      layout: { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP },
      recipes: [],
      shell: '/bin/sh',
    });
    const broken = all.filter(([, , , , w]) => w instanceof RegExp).map(([, p]) => p.replace(/^\/usr\/lib\/x86_64-linux-gnu\//, '/opt/lib/').replace(/^\/usr\/bin\//, '/opt/bin/'));
    expect(report.binaries.unreadable.map((u) => u.file).sort()).toEqual([...broken].sort());
    expect(
      checkClosure(layer, [])
        .unreadable.map((u) => u.file)
        .sort(),
    ).toEqual([...broken].sort());
  });
});
