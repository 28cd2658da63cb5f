import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import type { CycloneDxBom } from '../../src/sbom/cyclonedx.js';
import { runYumda } from './cli.js';
import { cycloneDxValidator } from './cyclonedx.js';
import { readZip } from './zip.js';

/** What `yumda build --json` prints. */
export interface BuildJson {
  lockWritten: boolean;
  frozen: boolean;
  layers: Array<{ name: string; arch: string; target: string; zip: string; sbom: string; sha256: string; packages: number }>;
}

/**
 * `yumda build --frozen` in `project` after a first build whose dist/ files and yumda.lock were
 * copied to `saved`: it succeeds, rewrites no lock, and writes the same bytes again.
 */
export async function expectFrozenRebuild(project: string, saved: string, first: BuildJson, distFiles: string[]): Promise<void> {
  const r = await runYumda(['build', '--frozen', '--json'], { cwd: project });
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  const again = JSON.parse(r.stdout) as BuildJson;
  expect(again.frozen).toBe(true);
  expect(again.lockWritten).toBe(false);
  expect(again.layers.map((l) => l.sha256)).toEqual(first.layers.map((l) => l.sha256));
  for (const f of distFiles) expect(readFileSync(path.join(project, 'dist', f)).equals(readFileSync(path.join(saved, f))), f).toBe(true);
  expect(readFileSync(path.join(project, 'yumda.lock')).equals(readFileSync(path.join(saved, 'yumda.lock')))).toBe(true);
}

/** `name=version` of a package, an SBOM component or a lock entry. */
export const packageKey = (p: { name: string; version: string }): string => `${p.name}=${p.version}`;

/**
 * A built layer's SBOM, checked: the file beside the zip is the one inside it, it is valid
 * CycloneDX, and it lists exactly the packages of the layer's own manifest.
 */
export async function checkedSbom(layer: { zip: string; sbom: string }): Promise<{ bom: CycloneDxBom; manifest: LayerManifest }> {
  const entries = await readZip(layer.zip);
  const read = (name: string) => entries.find((e) => e.name === name)!.data!;
  const manifest = JSON.parse(read('.yumda/manifest.json').toString()) as LayerManifest;
  const inside = read('.yumda/sbom.cdx.json');
  expect(readFileSync(layer.sbom).equals(inside)).toBe(true);
  const bom = JSON.parse(inside.toString()) as CycloneDxBom;
  const validate = cycloneDxValidator();
  expect(validate(bom), JSON.stringify(validate.errors)).toBe(true);
  expect(bom.components.map(packageKey).sort()).toEqual(manifest.packages.map(packageKey).sort());
  return { bom, manifest };
}
