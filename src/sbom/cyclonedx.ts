import type { LayerManifest } from '../format/layer-manifest.js';
import type { PackageFamily } from '../registry/types.js';
import { sha256 } from '../util/hash.js';
import { dep5ExpressionToSpdx, type PackageLicense } from './licenses.js';

/**
 * The layer's SBOM as CycloneDX 1.5 JSON. CycloneDX rather than SPDX 2.3 because (1) nothing in it
 * must change from build to build: SPDX 2.3 requires a creation timestamp and a unique document
 * namespace, which would make the layer zip that carries the SBOM differ on every build, while
 * CycloneDX's timestamp is optional and its serial number can be derived from the content; (2)
 * Debian's license names that have no SPDX identifier (`public-domain`, `bitstream-vera`) can be
 * stated as they are (`license.name`) instead of through LicenseRef-* bookkeeping; (3) scanners
 * (Grype, Trivy, AWS Inspector's SBOM import) read CycloneDX with package URLs, whose `upstream`
 * qualifier maps a binary package to its source package, the unit of Debian's security tracker.
 */

export interface SbomInput {
  /** What the layer is called (a manifest's layer name, or the first requested package). */
  name: string;
  manifest: LayerManifest;
  distro: { name: string; version: string };
  family: PackageFamily;
  licenses: Map<string, PackageLicense>;
  /** Package checksums from the repository metadata, by package name. */
  checksums: Map<string, string>;
}

interface Property {
  name: string;
  value: string;
}

type LicenseChoice = { expression: string } | { license: { id: string } | { name: string } };

export interface CycloneDxComponent {
  type: 'library';
  'bom-ref': string;
  name: string;
  version: string;
  purl: string;
  hashes?: Array<{ alg: 'SHA-256'; content: string }>;
  licenses?: LicenseChoice[];
  properties: Property[];
}

export interface CycloneDxBom {
  bomFormat: 'CycloneDX';
  specVersion: '1.5';
  serialNumber: string;
  version: 1;
  metadata: {
    tools: { components: Array<{ type: 'application'; name: string; version: string }> };
    component: { type: 'application'; 'bom-ref': string; name: string; description: string; properties: Property[] };
  };
  components: CycloneDxComponent[];
  dependencies: Array<{ ref: string; dependsOn: string[] }>;
}

/** A package URL (purl-spec): `pkg:deb/debian/jq@1.6-2.1%2Bdeb12u3?arch=arm64&distro=debian-12`. */
export function packageUrl(family: PackageFamily, distro: { name: string; version: string }, p: { name: string; version: string; arch: string; sourcePackage?: string }): string {
  const enc = (s: string) => encodeURIComponent(s);
  const qualifiers: Array<[string, string]> = [
    ['arch', p.arch],
    ['distro', `${distro.name}-${distro.version}`],
  ];
  if (p.sourcePackage && p.sourcePackage !== p.name) qualifiers.push(['upstream', p.sourcePackage]);
  qualifiers.sort(([a], [b]) => (a < b ? -1 : 1));
  return `pkg:${family}/${enc(distro.name)}/${enc(p.name)}@${enc(p.version)}?${qualifiers.map(([k, v]) => `${k}=${enc(v)}`).join('&')}`;
}

/**
 * One SPDX expression when the whole license maps to SPDX; otherwise one entry per declared
 * license, by SPDX id where it has one and by the distribution's name where not.
 */
function licenseChoices(l: PackageLicense | undefined): LicenseChoice[] | undefined {
  if (!l || l.declared.length === 0) return undefined;
  if (l.spdx) return [{ expression: l.spdx }];
  const seen = new Set<string>();
  const out: LicenseChoice[] = [];
  for (const declared of l.declared) {
    const mapped = dep5ExpressionToSpdx(declared);
    const choice: LicenseChoice = mapped && /^[A-Za-z0-9.-]+$/.test(mapped) ? { license: { id: mapped } } : { license: { name: declared } };
    const key = JSON.stringify(choice);
    if (!seen.has(key)) out.push(choice);
    seen.add(key);
  }
  return out;
}

/** A UUID made from a digest, so the same BOM always has the same serial number. */
function uuidFrom(hex: string): string {
  const h = hex.slice(0, 32).split('');
  h[12] = '5';
  h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

/** The SBOM of a layer: one component per package of the layer's manifest, in the same order. */
export function layerSbom(input: SbomInput): CycloneDxBom {
  const m = input.manifest;
  const components: CycloneDxComponent[] = m.packages.map((p) => {
    const purl = packageUrl(input.family, input.distro, p);
    const license = input.licenses.get(p.name);
    const checksum = input.checksums.get(p.name);
    const licenses = licenseChoices(license);
    return {
      type: 'library',
      'bom-ref': purl,
      name: p.name,
      version: p.version,
      purl,
      ...(checksum ? { hashes: [{ alg: 'SHA-256' as const, content: checksum }] } : {}),
      ...(licenses ? { licenses } : {}),
      properties: [
        { name: 'yumda:package:arch', value: p.arch },
        { name: 'yumda:package:sourcePackage', value: p.sourcePackage ?? p.name },
        { name: 'yumda:package:licenseSource', value: license?.source ?? 'none' },
        ...(license?.spdx && license.declared.length ? [{ name: 'yumda:package:licenseDeclared', value: license.declared.join('; ') }] : []),
        { name: 'yumda:package:requiredBy', value: p.requiredBy.join(' ') },
        { name: 'yumda:package:filesInLayer', value: String(p.files) },
      ],
    };
  });
  const layerRef = `layer:${input.name}`;
  const bom: Omit<CycloneDxBom, 'serialNumber'> & { serialNumber?: string } = {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: m.tool.name, version: m.tool.version }] },
      component: {
        type: 'application',
        'bom-ref': layerRef,
        name: input.name,
        description: `AWS Lambda layer built by yumda for ${m.target} ${m.arch}`,
        properties: [
          { name: 'yumda:target', value: m.target },
          { name: 'yumda:arch', value: m.arch },
          { name: 'yumda:runtime', value: m.runtime },
          { name: 'yumda:requested', value: m.requested.join(' ') },
        ],
      },
    },
    components,
    dependencies: [{ ref: layerRef, dependsOn: components.map((c) => c['bom-ref']) }],
  };
  const serialNumber = `urn:uuid:${uuidFrom(sha256(JSON.stringify(bom)))}`;
  return { bomFormat: bom.bomFormat, specVersion: bom.specVersion, serialNumber, version: bom.version, metadata: bom.metadata, components, dependencies: bom.dependencies };
}

/** The path of the SBOM written next to a layer zip: `poppler.zip` → `poppler.cdx.json`. */
export function sbomPathFor(zipPath: string): string {
  return zipPath.replace(/\.zip$/i, '') + '.cdx.json';
}
