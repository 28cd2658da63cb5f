import { createRequire } from 'node:module';
import parseSpdx from 'spdx-expression-parse';
import { parseDeb822 } from '../backends/apt/deb822.js';
import type { PlannedPackage } from '../resolve/plan.js';
import { resolvePath, withImpliedDirs } from '../tree/resolve.js';
import { readContent, type FileTree } from '../tree/types.js';

/**
 * What a package's license is, as far as the distribution says it in machine-readable form.
 * `declared` keeps the distribution's own words (DEP-5 short names like `GPL-2+`, or an RPM
 * License tag); `spdx` is the same as an SPDX expression when every part has an SPDX identifier.
 */
export interface PackageLicense {
  declared: string[];
  spdx?: string;
  /**
   * Where it was read: a DEP-5 copyright file, references to /usr/share/common-licenses in a
   * free-form copyright file, the RPM header's License tag (set by the rpm backend through
   * PlannedPackage.license), or nowhere.
   */
  source: 'dep5' | 'common-licenses' | 'rpm-header' | 'free-form' | 'none';
}

const spdxIds = createRequire(import.meta.url)('spdx-license-ids') as string[];
const SPDX_BY_LOWER = new Map(spdxIds.map((id) => [id.toLowerCase(), id]));
/** The SPDX license list read at run time (from node_modules, not the bundle): what decides an SBOM's identifiers. */
export const SPDX_LIST: readonly string[] = spdxIds;

/** DEP-5 names that are not SPDX identifiers under another spelling (copyright-format 1.0, "License specification"). */
const DEP5_ALIASES: Record<string, string> = {
  expat: 'MIT',
  'bsd-2-clause': 'BSD-2-Clause',
  'bsd-3-clause': 'BSD-3-Clause',
  'bsd-4-clause': 'BSD-4-Clause',
  'bsd-3': 'BSD-3-Clause',
  'bsd-2': 'BSD-2-Clause',
  artistic: 'Artistic-1.0-Perl',
  'artistic-1.0': 'Artistic-1.0',
  perl: 'Artistic-1.0-Perl OR GPL-1.0-or-later',
  cc0: 'CC0-1.0',
  'cc0-1.0': 'CC0-1.0',
  zlib: 'Zlib',
  'psf-2': 'PSF-2.0',
  python: 'Python-2.0',
};

/** Licenses with only/or-later variants in SPDX: GPL-2 is GPL-2.0-only, GPL-2+ GPL-2.0-or-later. */
const VERSIONED_FAMILIES = new Set(['gpl', 'lgpl', 'agpl', 'gfdl', 'gfdl-niv']);

/** One DEP-5 short name (`GPL-2+`, `Expat`, `LGPL-2.1`) as an SPDX expression, or undefined. */
export function dep5ToSpdx(name: string): string | undefined {
  const n = name.trim();
  const plus = n.endsWith('+');
  const base = (plus ? n.slice(0, -1) : n).toLowerCase();
  const family = /^([a-z]+(?:-niv)?)-(\d+(?:\.\d+)?)$/.exec(base);
  if (family && VERSIONED_FAMILIES.has(family[1]!)) {
    const version = family[2]!.includes('.') ? family[2]! : `${family[2]}.0`;
    const id = SPDX_BY_LOWER.get(`${family[1]}-${version}-${plus ? 'or-later' : 'only'}`);
    return id && valid(id) ? id : undefined;
  }
  const alias = DEP5_ALIASES[base];
  if (alias && !plus) return alias;
  const id = SPDX_BY_LOWER.get(base) ?? (/^[a-z-]+-\d+$/.test(base) ? SPDX_BY_LOWER.get(`${base}.0`) : undefined);
  if (!id) return undefined;
  return plus ? (valid(`${id}+`) ? `${id}+` : undefined) : id;
}

function valid(expr: string): boolean {
  try {
    parseSpdx(expr);
    return true;
  } catch {
    return false;
  }
}

/**
 * A DEP-5 License value's first line (`GPL-2+ or Artistic`, `LGPL-2.1+ with Foo exception`) as
 * SPDX, when every alternative maps; exceptions are kept out (their DEP-5 names are free text).
 */
export function dep5ExpressionToSpdx(value: string): string | undefined {
  if (/\bwith\b/i.test(value)) return undefined;
  const parts = value.split(/\s+(or|and)\s+|\s*,\s*(or|and)\s+/i).filter((p) => p !== undefined && p !== '');
  const out: string[] = [];
  for (const part of parts) {
    if (/^(or|and)$/i.test(part)) {
      out.push(part.toUpperCase());
      continue;
    }
    const id = dep5ToSpdx(part);
    if (!id) return undefined;
    out.push(id.includes(' ') ? `(${id})` : id);
  }
  const expr = out.join(' ');
  return expr && valid(expr) ? expr : undefined;
}

/** Combines license expressions of the parts of one package: a package is under all of them. */
export function conjoin(expressions: string[]): string | undefined {
  const unique = [...new Set(expressions)];
  if (unique.length === 0) return undefined;
  if (unique.length === 1) return unique[0];
  return unique.map((e) => (/\s(OR|AND)\s/.test(e) ? `(${e})` : e)).join(' AND ');
}

/**
 * The licenses of a DEP-5 (machine-readable) copyright file: the License fields of its header and
 * Files paragraphs, in order, once each. Paragraphs about `debian/*` only (the packaging, not what
 * the binary package ships) are left out unless nothing else names a license. Returns undefined
 * for a file that is not in DEP-5 format.
 */
export function dep5Licenses(text: string): string[] | undefined {
  const paragraphs = parseDeb822(text.replace(/\r\n/g, '\n'));
  const header = paragraphs[0];
  if (!header || !/copyright-format|dep5|DEP-5/i.test(header.get('Format') ?? header.get('Format-Specification') ?? '')) return undefined;
  const names: string[] = [];
  const packaging: string[] = [];
  for (const p of paragraphs) {
    const license = p.get('License')?.split('\n')[0]?.trim();
    if (!license) continue;
    const files = p.get('Files');
    if (p !== header && files === undefined) continue; // a stand-alone License paragraph: the text of a name used above
    const onlyPackaging = files
      ?.split(/\s+/)
      .filter(Boolean)
      .every((f) => f.startsWith('debian/'));
    (onlyPackaging ? packaging : names).push(license);
  }
  const list = names.length ? names : packaging;
  return [...new Set(list)];
}

/** Licenses a free-form Debian copyright file names by pointing at /usr/share/common-licenses/. */
export function commonLicenseReferences(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\/usr\/share\/common-licenses\/([A-Za-z0-9+_-]+(?:\.\d+)*)/g)) out.add(m[1]!);
  return [...out];
}

export function licenseFromCopyright(text: string): PackageLicense {
  const dep5 = dep5Licenses(text);
  if (dep5?.length) return withSpdx(dep5, 'dep5');
  // a reference names the text, not whether "or later" applies: no SPDX expression is claimed
  const refs = commonLicenseReferences(text);
  if (refs.length) return { declared: refs, source: 'common-licenses' };
  return { declared: [], source: 'free-form' };
}

function withSpdx(declared: string[], source: PackageLicense['source']): PackageLicense {
  const mapped = declared.map(dep5ExpressionToSpdx);
  const spdx = mapped.every((m): m is string => m !== undefined) ? conjoin(mapped) : undefined;
  return { declared, ...(spdx ? { spdx } : {}), source };
}

/**
 * Each planned package's license, read from the staged tree before relocation drops the docs:
 * `/usr/share/doc/<package>/copyright` for Debian packages (symlinked doc directories followed),
 * the RPM License tag for RPM packages (the rpm backend fills PlannedPackage.license).
 */
export function stagedLicenses(staged: FileTree, packages: PlannedPackage[]): Map<string, PackageLicense> {
  // a tar stream may leave out a parent directory's own entry: parents of entries are directories
  const tree = withImpliedDirs(staged);
  const out = new Map<string, PackageLicense>();
  for (const p of packages) {
    if (p.license) {
      out.set(p.name, { declared: [p.license], ...(valid(p.license) ? { spdx: p.license } : {}), source: 'rpm-header' });
      continue;
    }
    const r = resolvePath(tree, `/usr/share/doc/${p.name}/copyright`);
    const entry = r.kind === 'found' ? r.entry : undefined;
    out.set(p.name, entry?.kind === 'file' ? licenseFromCopyright(readContent(entry.content).toString('utf8')) : { declared: [], source: 'none' });
  }
  return out;
}
