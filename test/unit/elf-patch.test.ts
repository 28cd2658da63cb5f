import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLibraryPath, findPaths, overwrite, padPath, wholePathStrings } from '../../src/elf/patch.js';
import { parseElf } from '../../src/elf/read.js';
import { cc, libAndProgram } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';
import { run } from '../helpers/cli.js';

describe('findPaths', () => {
  it('finds the path of a file:// URL, not paths inside other URLs or paths', async () => {
    const d = tempDir();
    const prog = await cc(
      '#include <stdio.h>\nconst char *a = "file:///usr/share/hunspell", *b = "http://h/usr/share/x", *c = "/opt/usr/share/y", *e = "/usr/lib/z";\nint main(void){ printf("%s%s%s%s", a, b, c, e); return 0; }\n',
      'urls',
      [],
      d,
    );
    expect(
      findPaths(prog.data)
        .map((f) => f.value)
        .filter((v) => !v.startsWith('/usr/lib/x86_64') && !v.startsWith('/usr/lib/gcc')),
    ).toEqual(expect.arrayContaining(['/usr/share/hunspell', '/usr/lib/z']));
    expect(findPaths(prog.data).map((f) => f.value)).not.toContain('/usr/share/x');
    expect(findPaths(prog.data).map((f) => f.value)).not.toContain('/usr/share/y');
  });
});

describe('padPath', () => {
  it('pads with slashes before the shared tail, keeping the length', () => {
    expect(padPath('/usr/lib/x86_64-linux-gnu/ImageMagick-6/coders', '/opt/lib/ImageMagick-6/coders', 46)).toBe('/opt/lib' + '/'.repeat(17) + '/ImageMagick-6/coders');
    expect(padPath('/usr/share/x', '/opt/share/x', 12)).toBe('/opt/share/x');
    expect(padPath('/var/tmp', '/tmp', 8)).toBe('/////tmp');
    expect(padPath('/var/tmp/', '/tmp/', 9)).toBe('/////tmp/');
    expect(padPath('/etc/x', '/opt/etc/x', 6)).toBeUndefined();
  });
});

describe('compiled-in paths', () => {
  it('finds paths in .rodata and rewrites one in place so the program uses the new place', async () => {
    const d = tempDir();
    const prog = await cc(
      '#include <stdio.h>\nstatic const char *data = "/usr/share/yumda-test/data.txt";\nint main(void){ FILE *f = fopen(data, "r"); if(!f){perror(data); return 1;} char b[64]={0}; fread(b,1,63,f); printf("%s", b); return 0; }\n',
      'reader',
      [],
      d,
    );
    const found = findPaths(prog.data);
    const hit = found.find((f) => f.value === '/usr/share/yumda-test/data.txt')!;
    expect(hit).toBeDefined();
    expect(parseElf(prog.data).sections.find((s) => hit.offset >= s.offset && hit.offset < s.offset + s.size)?.name).toBe('.rodata');

    // a shorter place of our own stands in for /opt/share/yumda-test (same rule: pad, keep tail)
    const place = `/tmp/y${process.pid}r`;
    rmSync(place, { recursive: true, force: true });
    mkdirSync(place);
    writeFileSync(`${place}/data.txt`, 'found at the new place\n');
    const target = padPath(hit.value, `${place}/data.txt`, hit.value.length)!;
    expect(target.length).toBe(hit.value.length);
    const patched = overwrite(prog.data, hit.offset, target);
    expect(patched.length).toBe(prog.data.length);
    const out = path.join(d, 'reader2');
    writeFileSync(out, patched);
    chmodSync(out, 0o755);
    const r = await run(out, []);
    expect(r.stdout).toBe('found at the new place\n');
    expect((await run('readelf', ['-p', '.rodata', out])).stdout).toContain(target);
    rmSync(place, { recursive: true, force: true });
  });
});

describe('whole path strings', () => {
  it('lists whole path-like strings of a compiled program, not tails, words or data', async () => {
    const prog = await cc(
      '#include <stdio.h>\nstatic const char *volatile S[] = { "/usr", "/usr/bin/", "lib/x86_64-linux-gnu/foo-1.0", "foo-helper", "a b/c", "word", "x.y", "/etc/passwd", "/usr/bin/tool-1", "bin/tool-1" };\n' +
        'static const unsigned char D[] = { 1, 2, 3, 0 };\nint main(void){ for (unsigned i = 0; i < 10; i++) puts(S[i]); return D[0]; }\n',
      'strs',
      ['-O2'],
    );
    const values = wholePathStrings(prog.data, parseElf(prog.data)).map((s) => s.value);
    expect(values).toEqual(expect.arrayContaining(['/usr', '/usr/bin/', 'lib/x86_64-linux-gnu/foo-1.0', 'foo-helper', '/etc/passwd']));
    // spaces are no path; a plain word and strings under 4 bytes are no file name
    for (const no of ['a b/c', 'word', 'x.y']) expect(values).not.toContain(no);
    // the linker merged bin/tool-1 into the tail of /usr/bin/tool-1: listed once, as the whole
    expect(prog.data.includes(Buffer.from('\0bin/tool-1\0'))).toBe(false);
    expect(values).toContain('/usr/bin/tool-1');
    expect(values).not.toContain('bin/tool-1');
    // each offset is where the string is, whole (a NUL before it)
    for (const s of wholePathStrings(prog.data, parseElf(prog.data))) {
      expect(prog.data.toString('latin1', s.offset, s.offset + s.value.length)).toBe(s.value);
      expect(prog.data[s.offset - 1]).toBe(0);
      expect(prog.data[s.offset + s.value.length]).toBe(0);
    }
  });
});

describe('library search path', () => {
  it('adds a DT_RPATH to an executable that has none, and the program finds its library without LD_LIBRARY_PATH', async () => {
    const { dir, prog } = await libAndProgram();
    // before: the loader cannot find libanswer.so.1
    const before = await run(path.join(dir, 'prog'), []);
    expect(before.stderr).toMatch(/libanswer\.so\.1: cannot open shared object file/);
    const res = ensureLibraryPath(prog, dir, (e) => e);
    if ('error' in res) throw new Error(res.error);
    expect(res.how).toBe('added-rpath');
    const out = path.join(dir, 'prog-rpath');
    writeFileSync(out, res.data);
    chmodSync(out, 0o755);
    const dyn = (await run('readelf', ['-dW', out])).stdout;
    expect(dyn).toMatch(/\(RPATH\)/);
    expect(dyn).not.toMatch(/\(DEBUG\)/);
    expect(parseElf(res.data).dynamic?.rpath?.value).toBe(dir);
    // the loader's own account of where it looked
    const debug = await runWithEnv(out, { LD_DEBUG: 'libs' });
    expect(debug.stderr).toContain(`search path=${dir}`);
    expect(debug.stderr).toMatch(/\(RPATH from file .*prog-rpath\)/);
    const after = await run(out, []);
    expect(after.stderr).toBe('');
    expect(after.stdout).toBe('answer=42\n');
    // the file still satisfies binutils' own consistency checks
    expect((await run('readelf', ['-lW', out])).stderr).toBe('');
  });

  it('rewrites an existing RUNPATH in place, moving its directories and adding the layer directory', async () => {
    const { dir } = await libAndProgram();
    const prog = await cc(
      '#include <stdio.h>\nint answer(void);\nint main(void){ printf("answer=%d\\n", answer()); return 0; }\n',
      'prog2',
      [`-L${dir}`, '-l:libanswer.so.1', '-Wl,-rpath,/usr/lib/x86_64-linux-gnu/private-directory-of-some-package-with-a-long-name', '-Wl,--enable-new-dtags'],
      dir,
    );
    // a short name for the library directory, as /opt/lib is in a real layer
    const short = `/tmp/y${process.pid}`;
    rmSync(short, { force: true });
    symlinkSync(dir, short);
    const res = ensureLibraryPath(prog.data, short, (e) => e.replace('/usr/lib/x86_64-linux-gnu/', '/opt/lib/'));
    if ('error' in res) throw new Error(res.error);
    expect(res.how).toBe('rewrote-runpath');
    expect(parseElf(res.data).dynamic?.runpath?.value.replace(/\/+/g, '/')).toBe(`/opt/lib/private-directory-of-some-package-with-a-long-name:${short}/`.replace(/\/+/g, '/'));
    const out = path.join(dir, 'prog2-moved');
    writeFileSync(out, res.data);
    chmodSync(out, 0o755);
    expect((await run(out, [])).stdout).toBe('answer=42\n');
    rmSync(short, { force: true });
  });
});

describe('library search path that does not fit in place', () => {
  it("keeps the package's own $ORIGIN first and the layer directory after it (LibreOffice locates itself by where its libraries were loaded)", async () => {
    const { dir } = await libAndProgram();
    const prog = await cc(
      '#include <stdio.h>\nint answer(void);\nint main(void){ printf("answer=%d\\n", answer()); return 0; }\n',
      'prog4',
      [`-L${dir}`, '-l:libanswer.so.1', '-Wl,-rpath,$ORIGIN:/x11', '-Wl,--enable-new-dtags'],
      dir,
    );
    const res = ensureLibraryPath(prog.data, '/opt/lib', (e) => (e === '/x11' ? '/opt/x11' : e));
    if ('error' in res) throw new Error(res.error);
    expect(res.how).toBe('moved-runpath-to-rpath');
    expect(parseElf(res.data).dynamic?.rpath?.value).toBe('$ORIGIN:/opt/x11:/opt/lib');
    const other = ensureLibraryPath(prog.data, '/opt/lib', (e) => e);
    if ('error' in other) throw new Error(other.error);
    expect(parseElf(other.data).dynamic?.rpath?.value).toBe('$ORIGIN:/opt/lib:/x11');
  });

  it('moves a short RUNPATH into a new DT_RPATH string with the layer directory first', async () => {
    const { dir } = await libAndProgram();
    const prog = await cc(
      '#include <stdio.h>\nint answer(void);\nint main(void){ printf("answer=%d\\n", answer()); return 0; }\n',
      'prog3',
      [`-L${dir}`, '-l:libanswer.so.1', '-Wl,-rpath,/x11', '-Wl,--enable-new-dtags'],
      dir,
    );
    const res = ensureLibraryPath(prog.data, dir, (e) => e);
    if ('error' in res) throw new Error(res.error);
    expect(res.how).toBe('moved-runpath-to-rpath');
    const e = parseElf(res.data);
    expect(e.dynamic?.runpath).toBeUndefined();
    expect(e.dynamic?.rpath?.value).toBe(`${dir}:/x11`);
    const out = path.join(dir, 'prog3-moved');
    writeFileSync(out, res.data);
    chmodSync(out, 0o755);
    expect((await run(out, [])).stdout).toBe('answer=42\n');
  });
});

function runWithEnv(cmd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [], { env: { ...process.env, ...env } }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
}

describe('library search path in an older-style binary', () => {
  it('uses the padding after the code segment when read-only data shares it (no -z separate-code)', async () => {
    const { dir } = await libAndProgram();
    const prog = await cc(
      '#include <stdio.h>\nint answer(void);\nint main(void){ printf("answer=%d\\n", answer()); return 0; }\n',
      'old',
      [`-L${dir}`, '-l:libanswer.so.1', '-Wl,-z,noseparate-code'],
      dir,
    );
    const loads = parseElf(prog.data).segments.filter((s) => s.type === 1);
    // one R+X segment and one RW segment: nothing read-only to extend
    expect(loads.every((s) => s.flags & 1 || s.flags & 2)).toBe(true);
    const res = ensureLibraryPath(prog.data, dir, (e) => e);
    if ('error' in res) throw new Error(res.error);
    const out = path.join(dir, 'old-rpath');
    writeFileSync(out, res.data);
    chmodSync(out, 0o755);
    expect((await run(out, [])).stdout).toBe('answer=42\n');
  });
});
