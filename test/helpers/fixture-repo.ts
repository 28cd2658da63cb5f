import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildRpm, gcc, makeRepo, rpmQuery, type FixturePackage } from './rpmrepo.js';

/**
 * The stand-in for an Amazon Linux repository in the rpm tests. Every case issue 3 names is here:
 *
 * - `hello`: a program linked against `libgreet` (another package; rpmbuild generates the
 *   `libgreet.so.1()(64bit)` requirement) and against `base` (which the runtime provides), reading
 *   a data file from a compiled-in /usr/share path and a config file under /etc; it also ships a
 *   `#!/usr/bin/env sh` script, and recommends `hello-extras` (a weak dependency: must not be pulled).
 * - `libgreet` 1.0-1 and 1.1-1: the newest wins.
 * - `hello-data` (noarch) 2.0-1 and 1:0.9-1: the epoch wins over the higher version.
 * - `base` 1.0-1 (the runtime's) and 1.1-1, which adds the symbol version BASE_1.1; `newtool` needs
 *   it: version skew whose newer library the runtime's copy would shadow (must stop).
 * - `libold` 1-1 (the runtime's, libold.so.1) and 2-1 (libold.so.2); `oldtool` needs libold.so.2:
 *   version skew the layer can fix by shipping libold 2 (the runtime has no libold.so.2).
 * - `archtool` for x86_64 and aarch64, to see `--arch arm64` pick the aarch64 build.
 * - `needs-newer-glibc`, which requires glibc >= 2.99 (the repository has 2.36 and 2.99): skew that
 *   must stop the build, since the C library cannot be shipped.
 * - `glibc` and `coreutils-single`: stand-ins for the runtime's own packages, providing what
 *   rpmbuild made the programs require from the C library, and /usr/bin/env.
 */

export interface FixtureRepo {
  dir: string;
  rpms: Record<string, string>;
  /** The runtime's packages (name → rpm file), for its manifest. */
  runtimeRpms: string[];
  /** The runtime's shared libraries (base 1.0, libold 1), to install into the stand-in runtime image. */
  runtimeLibs: Record<string, string>;
}

const HELLO_C = `#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
const char *greet(void);
const char *greet_path(void);
const char *base_name(void);
const char *base_path(void);
static int failed = 0;
/* The compiled-in path first (what a relocated binary must find once its paths are rewritten),
   then the variable a recipe sets. Prints which one worked. */
static void show(const char *what, const char *compiled, const char *var) {
  const char *tries[2] = { compiled, getenv(var) };
  for (int i = 0; i < 2; i++) {
    if (!tries[i]) continue;
    FILE *f = fopen(tries[i], "r");
    if (!f) continue;
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    for (char *p = buf; *p; p++) if (*p == '\\n') *p = ' ';
    while (n && buf[n - 1] == ' ') buf[--n] = 0;
    printf("%s: %s (%s): %s\\n", what, tries[i], i == 0 ? "compiled-in path" : var, buf);
    return;
  }
  printf("%s: NOT FOUND (compiled-in %s; $%s)\\n", what, compiled, var);
  failed = 1;
}
int main(void) {
  printf("library: %s (%s)\\n", greet_path(), greet());
  printf("base: %s (%s)\\n", base_path(), base_name());
  show("data", "/usr/share/hello/greeting.txt", "HELLO_DATA");
  show("config", "/etc/hello.conf", "HELLO_CONF");
  return failed;
}
`;

const libSource = (fn: string, value: string, pathFn: string) => `#define _GNU_SOURCE
#include <dlfcn.h>
const char *${fn}(void) { return "${value}"; }
const char *${pathFn}(void) { Dl_info i; return dladdr((void *)${fn}, &i) && i.dli_fname ? i.dli_fname : "?"; }
`;

async function sharedLib(dir: string, name: string, soname: string, source: string, versionScript?: string, cc?: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.c`), source);
  const args = ['-shared', '-fPIC', '-O1', '-o', soname, `${name}.c`, `-Wl,-soname,${soname}`];
  if (versionScript) {
    writeFileSync(path.join(dir, `${name}.map`), versionScript);
    args.push(`-Wl,--version-script,${name}.map`);
  }
  await gcc(dir, args, cc);
  return path.join(dir, soname);
}

async function program(dir: string, name: string, source: string, libs: Array<{ dir: string; soname: string }>, cc?: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${name}.c`), source);
  const args = ['-O1', '-o', name, `${name}.c`];
  for (const l of libs) args.push(`-L${l.dir}`, `-l:${l.soname}`);
  await gcc(dir, args, cc);
  return path.join(dir, name);
}

const exe = (file: string) => ({ data: readFileSync(file), mode: 0o755 });
const lib = (file: string) => ({ data: readFileSync(file), mode: 0o755 });

/** libgreet at another version (its library says which), for tests where the repository moves on. */
export async function libgreetRpm(work: string, version: string): Promise<string> {
  const so = await sharedLib(path.join(work, 'c', `greet-${version}`), 'greet', 'libgreet.so.1', libSource('greet', `hello from libgreet ${version}`, 'greet_path'));
  return buildRpm(work, { name: 'libgreet', version, files: { '/usr/lib64/libgreet.so.1': lib(so) } });
}

/**
 * The repository for `arch`: for aarch64 its programs and libraries are cross-compiled with
 * Debian's aarch64-linux-gnu-gcc and packaged with `rpmbuild --target aarch64`.
 */
export async function buildFixtureRepo(work: string, arch: 'x86_64' | 'aarch64' = 'x86_64'): Promise<FixtureRepo> {
  const c = path.join(work, 'c');
  const cc = arch === 'aarch64' ? 'aarch64-linux-gnu-gcc' : 'gcc';
  // libraries, each version in its own directory
  const greet10 = await sharedLib(path.join(c, 'greet10'), 'greet', 'libgreet.so.1', libSource('greet', 'hello from libgreet 1.0', 'greet_path'), undefined, cc);
  const greet11 = await sharedLib(path.join(c, 'greet11'), 'greet', 'libgreet.so.1', libSource('greet', 'hello from libgreet 1.1', 'greet_path'), undefined, cc);
  const baseSrc10 = libSource('base_name', 'base 1.0', 'base_path');
  const base10 = await sharedLib(path.join(c, 'base10'), 'base', 'libbase.so.1', baseSrc10, 'BASE_1.0 { global: base_name; base_path; local: *; };\n', cc);
  const base11 = await sharedLib(
    path.join(c, 'base11'),
    'base',
    'libbase.so.1',
    libSource('base_name', 'base 1.1', 'base_path') + 'const char *base_new(void) { return "new in base 1.1"; }\n',
    'BASE_1.0 { global: base_name; base_path; local: *; };\nBASE_1.1 { global: base_new; } BASE_1.0;\n',
    cc,
  );
  const old1 = await sharedLib(path.join(c, 'old1'), 'old', 'libold.so.1', libSource('old_version', 'libold 1', 'old_path'), undefined, cc);
  const old2 = await sharedLib(path.join(c, 'old2'), 'old', 'libold.so.2', libSource('old_version', 'libold 2', 'old_path'), undefined, cc);

  // programs: hello against libgreet 1.0 and base 1.0 (it runs with whichever libgreet.so.1 it finds)
  const hello = await program(
    path.join(c, 'hello'),
    'fixture-hello',
    HELLO_C,
    [
      { dir: path.dirname(greet10), soname: 'libgreet.so.1' },
      { dir: path.dirname(base10), soname: 'libbase.so.1' },
    ],
    cc,
  );
  const newtool = await program(
    path.join(c, 'newtool'),
    'newtool',
    '#include <stdio.h>\nconst char *base_new(void);\nint main(void) { puts(base_new()); return 0; }\n',
    [{ dir: path.dirname(base11), soname: 'libbase.so.1' }],
    cc,
  );
  const oldtool = await program(
    path.join(c, 'oldtool'),
    'oldtool',
    '#include <stdio.h>\nconst char *old_version(void);\nconst char *old_path(void);\nint main(void) { printf("oldtool: %s from %s\\n", old_version(), old_path()); return 0; }\n',
    [{ dir: path.dirname(old2), soname: 'libold.so.2' }],
    cc,
  );

  const pkgs: FixturePackage[] = [
    {
      name: 'hello',
      version: '1.0',
      files: {
        '/usr/bin/fixture-hello': exe(hello),
        '/usr/bin/hello-script': {
          data: '#!/usr/bin/env sh\n# a script found through env on PATH; runs the program next to it\necho "script: $0 runs with $(command -v sh)"\nexec fixture-hello\n',
          mode: 0o755,
        },
        '/etc/hello.conf': { data: '# hello configuration\ngreeting_file=/usr/share/hello/greeting.txt\n' },
      },
      requires: ['hello-data'],
      recommends: ['hello-extras'],
    },
    { name: 'hello-extras', version: '1.0', arch: 'noarch', files: { '/usr/share/hello-extras/README': { data: 'extras\n' } } },
    { name: 'hello-data', version: '2.0', arch: 'noarch', files: { '/usr/share/hello/greeting.txt': { data: 'greetings from hello-data 2.0 (epoch 0)\n' } } },
    { name: 'hello-data', version: '0.9', epoch: 1, arch: 'noarch', files: { '/usr/share/hello/greeting.txt': { data: 'greetings from hello-data 1:0.9\n' } } },
    { name: 'libgreet', version: '1.0', files: { '/usr/lib64/libgreet.so.1': lib(greet10) } },
    { name: 'libgreet', version: '1.1', files: { '/usr/lib64/libgreet.so.1': lib(greet11) } },
    { name: 'base', version: '1.0', files: { '/usr/lib64/libbase.so.1': lib(base10) } },
    { name: 'base', version: '1.1', files: { '/usr/lib64/libbase.so.1': lib(base11) } },
    { name: 'newtool', version: '1.0', files: { '/usr/bin/newtool': exe(newtool) } },
    { name: 'libold', version: '1', files: { '/usr/lib64/libold.so.1': lib(old1) } },
    { name: 'libold', version: '2', files: { '/usr/lib64/libold.so.2': lib(old2) } },
    { name: 'oldtool', version: '1.0', files: { '/usr/bin/oldtool': exe(oldtool) } },
    { name: 'archtool', version: '1.0', arch: 'x86_64', files: { '/usr/share/archtool/arch.txt': { data: 'built for x86_64\n' } } },
    { name: 'archtool', version: '1.0', arch: 'aarch64', files: { '/usr/share/archtool/arch.txt': { data: 'built for aarch64\n' } } },
    { name: 'coreutils-single', version: '8.32', files: { '/usr/bin/env': { data: 'stand-in: the runtime has the real env\n', mode: 0o755 } } },
    // needs a newer C library than the runtime's: the one skew no layer can fix
    { name: 'needs-newer-glibc', version: '1.0', arch: 'noarch', files: { '/usr/share/needs-newer-glibc/README': { data: 'x\n' } }, requires: ['glibc >= 2.99'] },
  ];
  const rpms: Record<string, string> = {};
  // the machine's architecture is rpmbuild's default; another is asked for with --target
  const forArch = (p: FixturePackage): FixturePackage => (p.arch || arch === 'x86_64' ? p : { ...p, arch });
  for (const p of pkgs) rpms[`${p.name}-${p.epoch ? `${p.epoch}:` : ''}${p.version}.${p.arch ?? arch}`] = await buildRpm(work, forArch(p));

  // the C library stand-in provides exactly what rpmbuild made the programs require from it
  const fromLibc = new Set<string>();
  for (const f of Object.values(rpms)) {
    for (const r of await rpmQuery(f, 'REQUIRENEVRS')) if (/^(libc\.so|libdl\.so|ld-linux|rtld\()/.test(r)) fromLibc.add(r);
  }
  rpms[`glibc-2.36.${arch}`] = await buildRpm(work, forArch({ name: 'glibc', version: '2.36', files: {}, provides: [...fromLibc].sort() }));
  rpms[`glibc-2.99.${arch}`] = await buildRpm(work, forArch({ name: 'glibc', version: '2.99', files: {}, provides: [...fromLibc].sort() }));

  const dir = path.join(work, 'repo');
  await makeRepo(dir, Object.values(rpms));
  return {
    dir,
    rpms,
    runtimeRpms: [rpms[`glibc-2.36.${arch}`]!, rpms[`coreutils-single-8.32.${arch}`]!, rpms[`base-1.0.${arch}`]!, rpms[`libold-1.${arch}`]!],
    runtimeLibs: { 'libbase.so.1': base10, 'libold.so.1': old1 },
  };
}
