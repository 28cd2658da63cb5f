import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ET_DYN, isElf, parseElf, ElfError } from '../../src/elf/read.js';
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
    const { treeOf, file } = await import('../../src/tree/types.js');
    const { lib, prog } = await libAndProgram();
    const layer = treeOf([file('/opt/bin/prog', prog, 0o755), file('/opt/lib/libanswer.so.1', lib)]);
    expect(checkClosure(layer, ['libc.so.6']).missing).toEqual([]);
    const without = treeOf([file('/opt/bin/prog', prog, 0o755)]);
    expect(checkClosure(without, ['libc.so.6']).missing).toEqual([{ file: '/opt/bin/prog', soname: 'libanswer.so.1' }]);
    expect(checkClosure(layer, []).missing).toEqual([{ file: '/opt/bin/prog', soname: 'libc.so.6' }]);
  });
});
