import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLibraryPath, findPaths, overwrite, padPath } from '../../src/elf/patch.js';
import { parseElf } from '../../src/elf/read.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/cli.js';

/**
 * In-place ELF patching on aarch64 (issue 13), on programs cross-compiled here with Debian's
 * aarch64-linux-gnu-gcc: with the 4 KiB default and with the 64 KiB maximum page size many
 * aarch64 distributions link with (which moves where segment padding is), each with and without
 * -z separate-code. readelf must accept each result, and qemu-aarch64 runs it.
 */
const GCC = 'aarch64-linux-gnu-gcc';
const SYSROOT = '/usr/aarch64-linux-gnu';
const QEMU = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((q) => existsSync(q));
const haveGcc = (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, GCC)));

async function cross(dir: string, source: string, out: string, args: string[]): Promise<Buffer> {
  const src = path.join(dir, `${out}.c`);
  writeFileSync(src, source);
  const r = await run(GCC, ['-o', path.join(dir, out), src, ...args], { cwd: dir });
  if (r.code !== 0) throw new Error(`${GCC} failed: ${r.stderr}`);
  return readFileSync(path.join(dir, out));
}

/** Runs an aarch64 program under qemu-user with the cross sysroot for its loader and libc. */
function runArm(file: string) {
  return run(QEMU!, ['-L', SYSROOT, file], {});
}

/**
 * The DT_RPATH string as the loader finds it, read through binutils rather than yumda's parser:
 * readelf's DT_RPATH and DT_STRTAB values, mapped to a file offset by readelf's PT_LOAD table.
 * (readelf prints the string itself only when it lies within the .dynstr section header's size,
 * which the loader never reads and the patch leaves alone.)
 */
async function readelfRpath(file: string): Promise<string | undefined> {
  const dyn = await run('readelf', ['-dW', file]);
  const segs = await run('readelf', ['-lW', file]);
  expect(dyn.stderr + segs.stderr).toBe('');
  const value = (tag: string) => {
    const m = new RegExp(`\\(${tag}\\)\\s+(?:0x([0-9a-f]+)|Library rpath: \\[(.*)\\])`).exec(dyn.stdout);
    return m;
  };
  const rpath = value('RPATH');
  if (!rpath) return undefined;
  if (rpath[2] !== undefined) return rpath[2];
  const addr = Number.parseInt(value('STRTAB')![1]!, 16) + Number.parseInt(rpath[1]!, 16);
  for (const m of segs.stdout.matchAll(/^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+)/gm)) {
    const [offset, vaddr, filesz] = [m[1]!, m[2]!, m[3]!].map((h) => Number.parseInt(h, 16)) as [number, number, number];
    if (addr >= vaddr && addr < vaddr + filesz) {
      const data = readFileSync(file);
      const start = offset + (addr - vaddr);
      return data.subarray(start, data.indexOf(0, start)).toString('latin1');
    }
  }
  throw new Error(`readelf maps no PT_LOAD over the DT_RPATH string at 0x${addr.toString(16)}`);
}

const LAYOUTS: Array<[string, string[]]> = [
  ['4 KiB pages, separate code', ['-Wl,-z,separate-code']],
  ['4 KiB pages, no separate code', ['-Wl,-z,noseparate-code']],
  ['64 KiB pages, separate code', ['-Wl,-z,max-page-size=65536', '-Wl,-z,separate-code']],
  ['64 KiB pages, no separate code', ['-Wl,-z,max-page-size=65536', '-Wl,-z,noseparate-code']],
];

describe.skipIf(!haveGcc)(`aarch64 in-place patching (${haveGcc ? GCC : `no ${GCC}: apt-get install gcc-aarch64-linux-gnu`})`, () => {
  it.each(LAYOUTS)('%s: a DT_RPATH is added, readelf agrees, and the program finds its library', async (_, layout) => {
    const dir = tempDir('yumda-arm-');
    await cross(dir, 'int answer(void) { return 42; }\n', 'libanswer.so.1', ['-shared', '-fPIC', '-Wl,-soname,libanswer.so.1', ...layout]);
    const prog = await cross(dir, '#include <stdio.h>\nint answer(void);\nint main(void){ printf("answer=%d\\n", answer()); return 0; }\n', 'prog', [
      `-L${dir}`,
      '-l:libanswer.so.1',
      ...layout,
    ]);
    const res = ensureLibraryPath(prog, dir, (e) => e);
    if ('error' in res) throw new Error(`${res.error} (${layout.join(' ')})`);
    const out = path.join(dir, 'prog-rpath');
    writeFileSync(out, res.data);
    chmodSync(out, 0o755);
    expect(await readelfRpath(out)).toBe(dir);
    expect(parseElf(res.data).dynamic?.rpath?.value).toBe(dir);
    if (!QEMU) return; // the static checks above stand; running needs qemu-user-static
    expect((await runArm(path.join(dir, 'prog'))).stderr).toMatch(/libanswer\.so\.1: cannot open shared object file/);
    const r = await runArm(out);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('answer=42\n');
  });

  it.each(LAYOUTS)('%s: a compiled-in path is rewritten in place', async (_, layout) => {
    const dir = tempDir('yumda-arm-');
    const prog = await cross(
      dir,
      '#include <stdio.h>\nstatic const char *data = "/usr/share/yumda-test/data.txt";\nint main(void){ FILE *f = fopen(data, "r"); if(!f){perror(data); return 1;} char b[64]={0}; fread(b,1,63,f); printf("%s", b); return 0; }\n',
      'reader',
      layout,
    );
    const hit = findPaths(prog).find((f) => f.value === '/usr/share/yumda-test/data.txt')!;
    expect(hit).toBeDefined();
    const place = `/tmp/a${process.pid}r`;
    rmSync(place, { recursive: true, force: true });
    mkdirSync(place);
    writeFileSync(`${place}/data.txt`, 'found at the new place\n');
    const target = padPath(hit.value, `${place}/data.txt`, hit.value.length)!;
    const out = path.join(dir, 'reader2');
    writeFileSync(out, overwrite(prog, hit.offset, target));
    chmodSync(out, 0o755);
    expect((await run('readelf', ['-p', '.rodata', out])).stdout).toContain(target);
    if (QEMU) expect((await runArm(out)).stdout).toBe('found at the new place\n');
    rmSync(place, { recursive: true, force: true });
  });
});
