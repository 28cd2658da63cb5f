import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { run } from './cli.js';

export interface DebSpec {
  name: string;
  version: string;
  /** Files by absolute path in the package, with their mode. */
  files: Array<{ path: string; data: Buffer | string; mode?: number }>;
  depends?: string;
  arch?: string;
}

/**
 * A flat apt repository (`deb URL ./`) of packages built here with dpkg-deb: what a third-party
 * repository looks like, including packages whose Depends under-declare what their binaries need.
 * Serve `dir` (test/helpers/serve.ts) and pass `--repo "URL ./"`.
 */
export async function debRepository(dir: string, packages: DebSpec[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const stanzas: string[] = [];
  for (const p of packages) {
    const arch = p.arch ?? 'amd64';
    const root = path.join(dir, `${p.name}.root`);
    mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    const control = [
      `Package: ${p.name}`,
      `Version: ${p.version}`,
      `Architecture: ${arch}`,
      'Maintainer: yumda tests <tests@yumda.invalid>',
      `Description: ${p.name} (a test package)`,
    ];
    if (p.depends) control.push(`Depends: ${p.depends}`);
    writeFileSync(path.join(root, 'DEBIAN/control'), control.join('\n') + '\n');
    for (const f of p.files) {
      const dest = path.join(root, f.path);
      mkdirSync(path.dirname(dest), { recursive: true });
      writeFileSync(dest, f.data);
      chmodSync(dest, f.mode ?? 0o644);
    }
    const deb = `${p.name}_${p.version}_${arch}.deb`;
    const r = await run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-b', root, path.join(dir, deb)]);
    if (r.code !== 0) throw new Error(`dpkg-deb failed: ${r.stderr}`);
    const data = readFileSync(path.join(dir, deb));
    stanzas.push([...control, `Filename: ./${deb}`, `Size: ${statSync(path.join(dir, deb)).size}`, `SHA256: ${createHash('sha256').update(data).digest('hex')}`].join('\n'));
  }
  writeFileSync(path.join(dir, 'Packages'), stanzas.join('\n\n') + '\n');
}
