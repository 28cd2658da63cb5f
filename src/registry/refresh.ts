import type { Docker } from '../docker/client.js';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { C_RUNTIME_LIBRARY, runtimeSymbolVersions } from '../check/versions.js';
import { withContainer } from '../docker/container.js';
import { ElfError, isElf, parseElf } from '../elf/read.js';
import { UserError } from '../util/errors.js';
import { readStream } from '../util/stream.js';
import { shellTemplate } from '../util/template.js';
import type { PackageFamily, Runtime, RuntimePackage, SymbolVersions } from './types.js';

/** Lambda's own environment (DESIGN.md); the same on every runtime. */
export const LAMBDA_ENV = {
  PATH: '/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH: '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
};

const inventoryTemplate = shellTemplate(new URL('./inventory.sh', import.meta.url));

/** Shell that lists what a runtime image has (inventory.sh): packages (tab-separated), then library file names. */
export function inventoryScript(family: PackageFamily): string {
  return inventoryTemplate({ DEB: family === 'deb' });
}

export interface Inventory {
  packages: RuntimePackage[];
  libraries: string[];
  shell: string;
  /** The C and C++ runtime's library files (libc.so.6, libstdc++.so.6, …) and where each really is. */
  cRuntimeFiles: Array<{ soname: string; path: string }>;
}

/** Turns the inventory script's output into runtime manifest fields. Pure. */
export function parseInventory(stdout: string, family: PackageFamily): Inventory {
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
  const cRuntimeFiles = (sections.get('paths') ?? [])
    .map((line) => line.split('\t'))
    .filter(([name, real]) => name && real?.startsWith('/') && C_RUNTIME_LIBRARY.test(name))
    .map(([soname, path]) => ({ soname: soname!, path: path! }));
  return { packages, libraries: [...new Set(sections.get('libraries') ?? [])].sort(), shell: sections.get('shell')?.[0] ?? '/bin/sh', cRuntimeFiles };
}

/** The first regular file of a tar stream (the Docker archive API's answer for one file). */
async function firstFile(stream: Readable): Promise<Buffer | undefined> {
  const extract = tar.extract();
  let found: Buffer | undefined;
  extract.on('entry', (header, body, next) => {
    if (!found && header.type === 'file') {
      readStream(body).then((data) => {
        found = data;
        next();
      }, next);
      return;
    }
    body.on('end', () => next());
    body.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return found;
}

/** Reads a runtime image's package database and libraries into a runtime manifest. */
export async function inventoryImage(docker: Docker, image: string, family: PackageFamily, network?: string): Promise<Inventory & { symbolVersions: SymbolVersions[] }> {
  return withContainer(docker, { image, cmd: ['-c', inventoryScript(family)], entrypoint: ['/bin/sh'], network: network ?? 'none' }, async (c) => {
    const r = await c.run();
    if (r.exitCode !== 0) throw new UserError(`reading the package database of ${image} failed: ${r.stderr.trim().split('\n').pop()}`);
    const inv = parseInventory(r.stdout, family);
    // the C and C++ runtime's symbol versions, from the libraries themselves (slim images have no readelf)
    const defs: Array<{ soname: string; defs: string[] }> = [];
    const read = new Set<string>();
    for (const f of inv.cRuntimeFiles) {
      if (read.has(`${f.soname}\t${f.path}`)) continue;
      read.add(`${f.soname}\t${f.path}`);
      const data = await firstFile(await c.getArchive(f.path));
      if (!data || !isElf(data)) continue;
      try {
        defs.push({ soname: f.soname, defs: parseElf(data).dynamic?.versionDefs ?? [] });
      } catch (e) {
        if (!(e instanceof ElfError)) throw e;
      }
    }
    return { ...inv, symbolVersions: runtimeSymbolVersions(defs) };
  });
}

export function refreshedRuntime(base: Runtime, image: string, inv: Inventory & { symbolVersions: SymbolVersions[] }, date: string): Runtime {
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
    ...(inv.symbolVersions.length ? { symbolVersions: inv.symbolVersions } : {}),
  };
}
