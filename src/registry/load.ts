import { readdirSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';
import { projectRoot } from '../util/paths.js';
import { readDocument } from '../util/schema.js';
import type { PackageNamePairs, Runtime, Target, UnusableOnLambda } from './types.js';

const registryDir = path.join(projectRoot, 'registry');

/** The ids of a registry folder's documents: their file names without `.json`. */
function idsIn(folder: 'targets' | 'runtimes'): string[] {
  return readdirSync(path.join(registryDir, folder))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The target of a build that names none: AL2023's runtimes are the ones Lambda recommends. */
export const DEFAULT_TARGET = 'al2023';

export function targetIds(): string[] {
  return idsIn('targets');
}

export function loadTarget(id: string): Target {
  if (!targetIds().includes(id)) {
    throw new UserError(`unknown target '${id}'`, { hint: `known targets: ${targetIds().join(', ')} (yumda targets)` });
  }
  const file = path.join(registryDir, 'targets', `${id}.json`);
  const target = readDocument<Target>('target', file);
  if (target.id !== id) throw new UserError(`${file}: field 'id' is '${target.id}' but the file is named for '${id}'`);
  return target;
}

/** The target of a package family with the newest distribution release (debian13 of the Debian ones), not a legacy one. */
export function newestTargetOf(family: Target['family']): Target | undefined {
  return targetIds()
    .map(loadTarget)
    .filter((t) => t.family === family && !t.legacy)
    .sort((a, b) => Number(b.distro.version) - Number(a.distro.version))[0];
}

export function runtimeIds(): string[] {
  return idsIn('runtimes');
}

/** A runtime of the registry by id; the id may come from a layer's manifest, so it is only ever looked up, never joined into a path unchecked. */
export function loadRuntime(id: string): Runtime {
  if (!runtimeIds().includes(id)) {
    throw new UserError(`unknown runtime '${id}'`, { hint: `known runtimes: ${runtimeIds().join(', ')}; or give its manifest with --runtime-manifest FILE` });
  }
  const file = path.join(registryDir, 'runtimes', `${id}.json`);
  return readDocument<Runtime>('runtime', file);
}

/** A runtime manifest from any file (`--runtime-manifest`), validated like the registry's own. */
export function loadRuntimeFile(file: string): Runtime {
  return readDocument<Runtime>('runtime', path.resolve(file));
}

export function runtimeFile(id: string): string {
  return path.join(registryDir, 'runtimes', `${id}.json`);
}

/** What cannot work on Lambda and is left out of layers by default. */
export function loadUnusable(): UnusableOnLambda {
  return readDocument<UnusableOnLambda>('unusable', path.join(registryDir, 'unusable-on-lambda.json'));
}

/** The rpm and Debian names of the same software (registry/package-names.json), for not-found suggestions. */
export function loadPackageNames(): PackageNamePairs {
  return readDocument<PackageNamePairs>('package-names', path.join(registryDir, 'package-names.json'));
}
