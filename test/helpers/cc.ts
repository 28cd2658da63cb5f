import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';
import { tempDir } from './tmp.js';

/** Compiles C source with the machine's gcc; returns the output file's bytes and path. */
export async function cc(source: string, out: string, args: string[], dir = tempDir()): Promise<{ path: string; data: Buffer }> {
  const src = path.join(dir, `${path.basename(out)}.c`);
  writeFileSync(src, source);
  const dest = path.join(dir, out);
  const r = await run('gcc', ['-o', dest, src, ...args], { cwd: dir });
  if (r.code !== 0) throw new Error(`gcc failed: ${r.stderr}`);
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
