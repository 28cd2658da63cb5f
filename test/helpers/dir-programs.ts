import { cc } from './cc.js';
import { tempDir } from './tmp.js';

/**
 * Small programs that find their files the way many real ones do: by joining a name to a bare
 * directory compiled in (bindir, libdir), not by a compiled-in path to the file. `-O0` and a
 * volatile pointer keep gcc from folding the join into one constant path.
 */

const JOIN = `
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
static void join(char *out, size_t n, const char *volatile dir, const char *name) { snprintf(out, n, "%s/%s", dir, name); }
`;

/** A tool that runs its helper program from its compiled-in bindir, as the issue saw. */
export const HELPER_TOOL = `${JOIN}
int main(void) {
  char p[4096];
  join(p, sizeof p, BINDIR, HELPER);
  execl(p, p, (char *)0);
  fprintf(stderr, "error running '%s': probably not installed\\n", p);
  return 127;
}
`;

/** A library that lists its loadable modules under its compiled-in libdir + "<name>-modules-X.Y". */
export const MODULE_LIB = `${JOIN}
int list_modules(void) {
  char d[4096];
  join(d, sizeof d, LIBDIR, MODDIR);
  DIR *h = opendir(d);
  if (!h) { fprintf(stderr, "no modules in %s: not a known file format\\n", d); return 0; }
  int n = 0;
  struct dirent *e;
  while ((e = readdir(h)) != NULL) if (e->d_name[0] != '.') { printf("module %s\\n", e->d_name); n++; }
  closedir(h);
  return n;
}
`;

export const MODULE_PROGRAM = `
int list_modules(void);
int main(void) { return list_modules() > 0 ? 0 : 1; }
`;

/** A program whose only job is to hold `strings` in .rodata (and print them, so they are used); `hold` calls the library's. */
export function holding(strings: string[], hold = false): string {
  const list = strings.map((s) => JSON.stringify(s)).join(', ');
  const call = hold ? 'void hold(void);\n' : '';
  return `#include <stdio.h>\n${call}static const char *volatile S[] = { ${list} };\nint main(void) { for (unsigned i = 0; i < sizeof S / sizeof S[0]; i++) puts(S[i]);${hold ? ' hold();' : ''} return 0; }\n`;
}

/** A shared library (with a soname) whose only job is to hold `strings`. */
export function holdingLib(strings: string[]): string {
  const list = strings.map((s) => JSON.stringify(s)).join(', ');
  return `#include <stdio.h>\nstatic const char *volatile S[] = { ${list} };\nvoid hold(void) { for (unsigned i = 0; i < sizeof S / sizeof S[0]; i++) puts(S[i]); }\n`;
}

const define = (name: string, value: string) => `-D${name}="${value}"`;

export interface DirPrograms {
  dir: string;
  helperTool: Buffer;
  moduleLib: Buffer;
  moduleProgram: Buffer;
}

/** The helper tool (bindir /usr/bin, helper mytool-helper) and the module library + program. */
export async function dirPrograms(dir = tempDir('yumda-dirs-')): Promise<DirPrograms> {
  const helperTool = await cc(HELPER_TOOL, 'mytool', ['-O0', define('BINDIR', '/usr/bin'), define('HELPER', 'mytool-helper')], dir);
  const moduleLib = await cc(
    MODULE_LIB,
    'libmodfmt.so.1',
    ['-O0', '-shared', '-fPIC', '-Wl,-soname,libmodfmt.so.1', define('LIBDIR', '/usr/lib/x86_64-linux-gnu'), define('MODDIR', 'modfmt-modules-1.2')],
    dir,
  );
  const moduleProgram = await cc(MODULE_PROGRAM, 'modcat', ['-O0', `-L${dir}`, '-l:libmodfmt.so.1', `-Wl,-rpath-link,${dir}`], dir);
  return { dir, helperTool: helperTool.data, moduleLib: moduleLib.data, moduleProgram: moduleProgram.data };
}
