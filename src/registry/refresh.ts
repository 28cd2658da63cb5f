import type Docker from 'dockerode';
import { withContainer } from '../docker/container.js';
import { UserError } from '../util/errors.js';
import type { PackageFamily, Runtime, RuntimePackage } from './types.js';

/** Lambda's own environment (DESIGN.md); the same on every runtime. */
export const LAMBDA_ENV = {
  PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
};

const LIBRARY_DIRS = '/lib /lib64 /usr/lib /usr/lib64 /var/lang/lib /var/runtime/lib';

/** Shell that lists what a runtime image has: packages (tab-separated), then library file names. */
export function inventoryScript(family: PackageFamily): string {
  const packages =
    family === 'deb'
      ? `dpkg-query -W -f '\${Package}\\t\${Version}\\t\${Architecture}\\t\${Source}\\t\${Multi-Arch}\\t\${Provides}\\n'`
      : // full provides with versions (`libz.so.1(ZLIB_1.2.9)(64bit)`, `zlib = 1.2.11-33`): they decide version skew
        `rpm -qa --qf '%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t\\t[%{PROVIDENEVRS}|]\\n'`;
  return [
    'set -e',
    'echo "##packages"',
    packages,
    'echo "##libraries"',
    `for d in ${LIBRARY_DIRS}; do [ -d "$d" ] && find "$d" -maxdepth 2 \\( -type f -o -type l \\) -name '*.so*' -printf '%f\\n'; done | sort -u`,
    'echo "##shell"',
    'for s in /bin/bash /usr/bin/bash /bin/sh /usr/bin/sh; do [ -x "$s" ] && { echo "$s"; break; }; done',
  ].join('\n');
}

/** Turns the inventory script's output into runtime manifest fields. Pure. */
export function parseInventory(stdout: string, family: PackageFamily): { packages: RuntimePackage[]; libraries: string[]; shell: string } {
  const sections = new Map<string, string[]>();
  let cur = '';
  for (const line of stdout.split('\n')) {
    const m = /^##(\w+)$/.exec(line);
    if (m) {
      cur = m[1]!;
      sections.set(cur, []);
    } else if (line.trim() && cur) sections.get(cur)!.push(line);
  }
  const packages: RuntimePackage[] = (sections.get('packages') ?? [])
    .map((line) => {
      const [name = '', version = '', arch = '', source = '', multiArch = '', provides = ''] = line.split('\t');
      const prov =
        family === 'deb'
          ? provides
              .split(',')
              .map((p) => p.trim().replace(/\s*\(.*\)$/, ''))
              .filter((p) => p && p !== name)
          : provides
              .split('|')
              .map((p) => p.trim())
              .filter(Boolean);
      const src = family === 'deb' ? source.replace(/\s*\(.*\)/, '') : source.replace(/-[^-]+-[^-]+\.src\.rpm$/, '');
      return {
        name,
        version,
        arch,
        ...(src && src !== name ? { source: src } : {}),
        ...(prov.length ? { provides: [...new Set(prov)].sort() } : {}),
        ...(multiArch && multiArch !== 'no' ? { multiArch } : {}),
      };
    })
    .filter((p) => p.name && !p.name.startsWith('gpg-pubkey'))
    .sort((a, b) => a.name.localeCompare(b.name));
  return { packages, libraries: [...new Set(sections.get('libraries') ?? [])].sort(), shell: sections.get('shell')?.[0] ?? '/bin/sh' };
}

/** Reads a runtime image's package database and libraries into a runtime manifest. */
export async function inventoryImage(docker: Docker, image: string, family: PackageFamily, network?: string): Promise<ReturnType<typeof parseInventory>> {
  const r = await withContainer(docker, { image, cmd: ['-c', inventoryScript(family)], entrypoint: ['/bin/sh'], network: network ?? 'none' }, (c) => c.run());
  if (r.exitCode !== 0) throw new UserError(`reading the package database of ${image} failed: ${r.stderr.trim().split('\n').pop()}`);
  return parseInventory(r.stdout, family);
}

export function refreshedRuntime(base: Runtime, image: string, inv: ReturnType<typeof parseInventory>, date: string): Runtime {
  return {
    ...base,
    shell: inv.shell,
    provenance: {
      source: image,
      method: `yumda runtime refresh ${image} --runtime ${base.id}`,
      date,
      ...(base.provenance.note ? { note: base.provenance.note } : {}),
    },
    packages: inv.packages,
    libraries: inv.libraries,
  };
}
