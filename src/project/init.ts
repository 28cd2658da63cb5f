import type { Target } from '../registry/types.js';
import type { PackageRequest } from '../resolve/backend.js';
import { DEFAULT_ZIP_OUTPUT } from './manifest.js';

/** What `yumda init` writes into a new manifest. */
export interface InitSpec {
  name: string;
  target: Target;
  arch: 'x86_64' | 'arm64';
  packages: PackageRequest[];
}

/**
 * A layer name the schema accepts, from a package name: `libstdc++6` → `libstdc-6`. Names are
 * at most 64 characters of letters, digits, `-` and `_`, starting with a letter or a digit.
 */
export function layerNameFor(pkg: string): string {
  const name = pkg
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return name || 'layer';
}

/** A package list entry as YAML: plain when it can be, else quoted (a version may hold anything but white space). */
function yamlItem(r: PackageRequest): string {
  const text = r.version ? `${r.name}=${r.version}` : r.name;
  return /^[A-Za-z0-9][A-Za-z0-9.+_:=~-]*$/.test(text) ? text : JSON.stringify(text);
}

/** Comment lines of at most `width` characters, for a long target description. */
function commentLines(text: string, indent: string, width = 100): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/)) {
    if (cur && indent.length + 2 + cur.length + 1 + word.length > width) {
      lines.push(`${indent}# ${cur}`);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(`${indent}# ${cur}`);
  return lines;
}

/**
 * A commented yumda.yaml declaring one layer: the fields set are those the spec gives, with the
 * default output spelled out; the others are there as comments, each saying which `install` flag it is.
 */
export function manifestTemplate(spec: InitSpec): string {
  const optional = spec.target.optionalRepositories?.map((o) => o.name) ?? [];
  return [
    '# The Lambda layers this project builds. `yumda build` builds each one (a zip and its SBOM per',
    '# architecture) and writes yumda.lock with the exact versions: commit both, and run',
    '# `yumda build --frozen` in CI. Fields: schema/manifest.schema.json in the yumda package.',
    'layers:',
    `  - name: ${spec.name}`.padEnd(36) + '# names the zip, the lock entry and the SBOM',
    ...commentLines(spec.target.description, '    '),
    `    target: ${spec.target.id}`.padEnd(36) + '# `yumda targets` lists the others',
    `    arch: ${spec.arch}`.padEnd(36) + '# or arm64, or [x86_64, arm64]: one zip per architecture',
    '    packages:'.padEnd(36) + '# NAME, NAME=VERSION or {name: NAME, upstream: ^1.6}; `yumda search WORD` finds names',
    ...spec.packages.map((p) => `      - ${yamlItem(p)}`),
    '    outputs:',
    `      zip: ${DEFAULT_ZIP_OUTPUT}`.padEnd(36) + '# {name}, {target} and {arch} are replaced; dir: a directory too',
    `    # repos: [${optional[0] ?? 'URL'}]`.padEnd(36) +
      `# extra repositories, as --repo${optional.length ? ` (${optional.join(', ')}: a repository ${spec.target.id} knows by name)` : ''}`,
    '    # keep: { docs: true }'.padEnd(36) + '# as --keep-docs; locales, headers, static; unusable: [GROUP] as --keep-unusable',
    '    # pack: true'.padEnd(36) + "# as --pack: for what is over Lambda's 250 MB unzipped",
    '    # from: debian13'.padEnd(36) + '# as --from: a self-contained layer with its own C library',
    '    # allowMissing: false'.padEnd(36) + '# as --allow-missing',
    '',
  ].join('\n');
}
