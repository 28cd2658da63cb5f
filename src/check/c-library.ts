import { UserError } from '../util/errors.js';
import { loadRuntime, loadTarget, targetIds } from '../registry/load.js';
import { newestVersion, recordFor, recordedHas } from './versions.js';

/**
 * What to do when a layer needs a newer C or C++ runtime than its target's: the targets whose
 * runtime has it, from the registry's runtime manifests.
 */

/** The targets (other than `except`) whose runtime defines `version` of `library`. */
export function targetsProviding(library: string, version: string, except?: string): string[] {
  return targetIds().filter((id) => {
    if (id === except) return false;
    const record = recordFor(loadRuntime(loadTarget(id).runtime).symbolVersions ?? [], library);
    return !!record && recordedHas(record.versions, version);
  });
}

/**
 * The way out, for a hint: a target whose runtime has the version, or a self-contained layer
 * (`--from`) that brings its own C library from such a target.
 */
export function cLibraryFix(library: string, version: string, targetId?: string): string {
  const targets = targetsProviding(library, version, targetId);
  if (!targets.length) return `no runtime yumda knows has ${version}: make a self-contained layer from a distribution as new as the packages (--from TARGET)`;
  return `build for a runtime that has it (--target ${targets.join(' or --target ')}), or make the layer self-contained, with its own C library (--from ${targets[0]})`;
}

/** The newest GLIBC version a runtime's C library defines (`GLIBC_2.36`), when its manifest records it. */
export function runtimeGlibc(runtimeId: string): string | undefined {
  const record = recordFor(loadRuntime(runtimeId).symbolVersions ?? [], 'libc.so.6');
  return record ? newestVersion(record.versions, 'GLIBC') : undefined;
}

/** The packages that are the C library, per package family: a layer that is not self-contained cannot ship them. */
export const C_LIBRARY_PACKAGES: Record<'deb' | 'rpm', readonly string[]> = { deb: ['libc6'], rpm: ['glibc'] };

/**
 * Refuses a plan that ships the C library: its programs would still start on the runtime's loader
 * with a C library of another release. Said before anything is downloaded, with the way out.
 */
export function refuseCLibraryPackage(packages: ReadonlyArray<{ name: string; version: string }>, family: 'deb' | 'rpm', runtimeId: string, targetId: string): void {
  const p = packages.find((x) => C_LIBRARY_PACKAGES[family].includes(x.name));
  if (!p) return;
  const glibc = `GLIBC_${/^(?:\d+:)?(\d+\.\d+)/.exec(p.version)?.[1] ?? p.version}`;
  throw new UserError(
    `the plan ships ${p.name} ${p.version} (${glibc}), a C library, which cannot take the place of the ${runtimeId} runtime's: its programs would still start on the runtime's loader; nothing written`,
    { hint: cLibraryFix('libc.so.6', glibc, targetId) },
  );
}
