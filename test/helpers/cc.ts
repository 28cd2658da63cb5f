import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';
import { tempDir } from './tmp.js';

/** Compiles C source with the machine's gcc (or `compiler`, a cross gcc); returns the output file's bytes and path. */
export async function cc(source: string, out: string, args: string[], dir = tempDir(), compiler = 'gcc'): Promise<{ path: string; data: Buffer }> {
  const src = path.join(dir, `${path.basename(out)}.c`);
  writeFileSync(src, source);
  const dest = path.join(dir, out);
  const r = await run(compiler, ['-o', dest, src, ...args], { cwd: dir });
  if (r.code !== 0) throw new Error(`${compiler} failed: ${r.stderr}`);
  return { path: dest, data: readFileSync(dest) };
}

/** A shared library with a soname and a program that needs it, built in `dir`. */
export async function libAndProgram(dir = tempDir()): Promise<{ dir: string; lib: Buffer; prog: Buffer }> {
  const lib = await cc('int answer(void) { return 42; }\n', 'libanswer.so.1', ['-shared', '-fPIC', '-Wl,-soname,libanswer.so.1'], dir);
  const prog = await cc(
    '#include <stdio.h>\nint answer(void);\nint main(void) { printf("answer=%d\\n", answer()); return 0; }\n',
    'prog',
    [`-L${dir}`, '-l:libanswer.so.1', `-Wl,-rpath-link,${dir}`],
    dir,
  );
  return { dir, lib: lib.data, prog: prog.data };
}

/**
 * A library with versioned symbols (a version script: V_1.0 defines one(), V_2.0 adds two()) and
 * programs that need each version, built in `dir`: what the symbol-version checks read.
 */
export async function versionedLibrary(dir = tempDir()): Promise<{ dir: string; lib: Buffer; needsV1: Buffer; needsV2: Buffer; libV1: Buffer }> {
  const script = path.join(dir, 'v.map');
  writeFileSync(script, 'V_1.0 { global: one; local: *; };\nV_2.0 { global: two; } V_1.0;\n');
  const v1Script = path.join(dir, 'v1.map');
  writeFileSync(v1Script, 'V_1.0 { global: one; local: *; };\n');
  const so = ['-shared', '-fPIC', '-Wl,-soname,libv.so.1'];
  const lib = await cc('int one(void) { return 1; }\nint two(void) { return 2; }\n', 'libv.so.1', [...so, `-Wl,--version-script=${script}`], dir);
  // the same soname, one version older: what an older runtime would have
  mkdirSync(path.join(dir, 'old'), { recursive: true });
  const libV1 = await cc('int one(void) { return 1; }\n', 'old/libv.so.1', [...so, `-Wl,--version-script=${v1Script}`], dir);
  const link = [`-L${dir}`, '-l:libv.so.1', `-Wl,-rpath-link,${dir}`];
  const needsV1 = await cc('int one(void);\nint main(void) { return one() - 1; }\n', 'needs-v1', link, dir);
  const needsV2 = await cc('int two(void);\nint main(void) { return two() - 2; }\n', 'needs-v2', link, dir);
  return { dir, lib: lib.data, needsV1: needsV1.data, needsV2: needsV2.data, libV1: libV1.data };
}
