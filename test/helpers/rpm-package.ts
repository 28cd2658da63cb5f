import type { RpmPackageInfo } from '../../src/backends/rpm/plan.js';

/** A package of a resolved closure, as the rpm helper reports it. */
export function rpmPackage(name: string, evr: string, opts: { arch?: string; provides?: string[]; requires?: Array<[string, string[]]> } = {}): RpmPackageInfo {
  const [, epoch, version, release] = /^(?:(\d+):)?(.+)-([^-]+)$/.exec(evr)!;
  return {
    name,
    epoch: Number(epoch ?? 0),
    version: version!,
    release: release!,
    arch: opts.arch ?? 'x86_64',
    downloadSize: 1000,
    installedSize: 3000,
    repo: 'amazonlinux',
    location: `Packages/${name}.rpm`,
    checksum: { type: 'sha256', value: 'ab'.repeat(32) },
    sourcerpm: `${name}-${evr.replace(/^\d+:/, '')}.src.rpm`,
    license: 'MIT',
    provides: [`${name} = ${evr}`, ...(opts.provides ?? [])],
    requires: (opts.requires ?? []).map(([dep, providers]) => ({ dep, providers })),
  };
}
