import type { PackageFamily as Family } from '../registry/types.js';
import { loadPackageNames } from '../registry/load.js';
import { UserError } from '../util/errors.js';
import { otherFamilyName } from './suggest.js';
import type { PackageRequest, VersionPin } from './backend.js';

/**
 * The grammar of package names and versions in each family, checked wherever one enters yumda (a
 * command line, a manifest, a lock, and the build itself): what reaches the package manager's
 * command line and configuration (apt's preferences, the rpm helper's job) is then a name or a
 * version and nothing else, and a typo is refused in one line before any work, instead of
 * failing as a package that was not found.
 *
 * Debian: policy 5.6.1 (names) and 5.6.12 / deb-version(7) (versions). rpm: the characters
 * rpmbuild accepts in Name, Version and Release, with an optional numeric epoch.
 */

const DEB_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const DEB_REVISION = /^[A-Za-z0-9+.~]+$/;
const RPM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
const RPM_PART = '[A-Za-z0-9._+~^]+';
const RPM_EVR = new RegExp(`^(?:[0-9]+:)?${RPM_PART}(?:-${RPM_PART})?$`);
const ARCH = /^[a-z0-9_]+$/;

const GRAMMAR = {
  deb: {
    name: "a Debian package name (lowercase letters, digits, '+', '-' and '.', at least two, starting with a letter or digit)",
    version: "a Debian version ([EPOCH:]UPSTREAM[-REVISION]: letters, digits and '.', '+', '~', see deb-version(7))",
  },
  rpm: {
    name: "an rpm package name (letters, digits, '.', '_', '+' and '-', not starting with '.', '+' or '-')",
    version: "an rpm version ([EPOCH:]VERSION[-RELEASE]: letters, digits and '.', '_', '+', '~', '^')",
  },
} as const;

export function isPackageName(family: Family, name: string): boolean {
  return (family === 'deb' ? DEB_NAME : RPM_NAME).test(name);
}

/** deb-version(7): epoch digits; upstream of alphanumerics and . + ~ (- with a revision, : with an epoch), starting alphanumeric. */
function isDebVersion(v: string): boolean {
  const epoch = /^([0-9]+):/.exec(v);
  const rest = epoch ? v.slice(epoch[0].length) : v;
  const dash = rest.lastIndexOf('-');
  const upstream = dash === -1 ? rest : rest.slice(0, dash);
  if (dash !== -1 && !DEB_REVISION.test(rest.slice(dash + 1))) return false;
  return new RegExp(`^[A-Za-z0-9][A-Za-z0-9.+~${epoch ? ':' : ''}${dash === -1 ? '' : '\\-'}]*$`).test(upstream);
}

export function isVersion(family: Family, version: string): boolean {
  return family === 'deb' ? isDebVersion(version) : RPM_EVR.test(version);
}

/** Quoted for a message, with anything unprintable escaped by the CLI's error output. */
const q = (s: string) => `'${s}'`;

/**
 * Refuses, in one line naming where it came from, a request whose name or exact version is not of
 * the family's grammar (a semver range is checked by the manifest reader).
 */
export function checkRequest(family: Family, r: PackageRequest, where: string): void {
  if (!isPackageName(family, r.name)) {
    const hint = nameHint(family, r.name);
    throw new UserError(`${where}: ${q(r.name)} is not ${GRAMMAR[family].name}`, hint ? { hint } : {});
  }
  if (r.version !== undefined && !isVersion(family, r.version)) {
    throw new UserError(`${where}: version ${q(r.version)} of ${r.name} is not ${GRAMMAR[family].version}`);
  }
}

/**
 * What a name of the other family's grammar is called in this one (`ImageMagick` on Debian is
 * `imagemagick`: registry/package-names.json), else its lowercase form when that is a name.
 */
function nameHint(family: Family, name: string): string | undefined {
  const other = otherFamilyName(name, family, loadPackageNames().pairs);
  const distro = family === 'deb' ? 'Debian' : 'rpm';
  if (other) return `${distro} calls it ${other}`;
  const lower = name.toLowerCase();
  return lower !== name && isPackageName(family, lower) ? `${distro} package names are lowercase: did you mean ${lower}?` : undefined;
}

/** The same for an exact package a lock records: name, version and architecture. */
export function checkLocked(family: Family, p: VersionPin, where: string): void {
  checkRequest(family, p, where);
  if (!ARCH.test(p.arch)) throw new UserError(`${where}: architecture ${q(p.arch)} of ${p.name} is not an architecture name`);
}
