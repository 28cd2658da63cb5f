import type { Command } from '@commander-js/extra-typings';
import { DEFAULT_TARGET, loadRuntime, loadTarget, targetIds } from '../../registry/load.js';
import { runtimeLabel } from '../../registry/lambda-runtimes.js';
import { plural } from '../../util/plural.js';
import type { OptionsOf } from '../options.js';

function declareTargets(program: Command) {
  return program.command('targets').description('List the targets: distribution, package manager, build image and runtime of each').option('--json', 'machine-readable output');
}

export type TargetsOptions = OptionsOf<ReturnType<typeof declareTargets>>;

export function registerTargets(program: Command): void {
  declareTargets(program).action((opts) => targetsCommand(opts));
}

export function targetsCommand(opts: TargetsOptions): void {
  const today = new Date().toISOString().slice(0, 10);
  // the legacy ones last: a new layer is for one of the others
  const rows = targetIds()
    .map((id) => {
      const t = loadTarget(id);
      const rt = loadRuntime(t.runtime);
      return { target: t, runtime: rt };
    })
    .sort((a, b) => Number(!!a.target.legacy) - Number(!!b.target.legacy));
  if (opts.json) {
    process.stdout.write(
      JSON.stringify(
        rows.map(({ target: t, runtime: r }) => ({
          id: t.id,
          description: t.description,
          default: t.id === DEFAULT_TARGET,
          legacy: !!t.legacy,
          ...(t.legacy ? { endOfSupport: t.legacy.endOfSupport } : {}),
          family: t.family,
          packageManager: t.packageManager,
          architectures: t.architectures,
          buildImage: t.buildImage,
          repositories: t.repositories,
          ...(t.optionalRepositories ? { optionalRepositories: t.optionalRepositories } : {}),
          runtime: { id: r.id, image: r.image, packages: r.packages.length, libraries: r.libraries.length, provenance: r.provenance },
          compatibleRuntimes: t.compatibleRuntimes,
          ...(t.runtimeDeprecations ? { runtimeDeprecations: t.runtimeDeprecations } : {}),
          lambda: r.lambda,
        })),
        null,
        2,
      ) + '\n',
    );
    return;
  }
  for (const { target: t, runtime: r } of rows) {
    process.stdout.write(
      [
        `${t.id}${t.id === DEFAULT_TARGET ? ' (default)' : ''}${t.legacy ? ` (legacy: end of support ${t.legacy.endOfSupport})` : ''}  ${t.description}`,
        ...(t.legacy?.note ? [`  legacy:        ${t.legacy.note}`] : []),
        `  packages:      ${t.packageManager} (${t.family}), ${t.distro.name} ${t.distro.version}; architectures ${t.architectures.join(', ')}`,
        `  build image:   ${t.buildImage.name} (built from ${t.buildImage.context}/Dockerfile when missing)`,
        ...(t.optionalRepositories ?? []).map((o) => `  --repo ${o.name}:${' '.repeat(Math.max(1, 7 - o.name.length))}${o.description}`),
        `  runtime:       ${r.id} (${r.image}): ${plural(r.packages.length, 'package')} provided, from ${r.provenance.source} (${r.provenance.date})`,
        ...(t.compatibleRuntimes.length ? [`  Lambda:        ${t.compatibleRuntimes.map((r) => runtimeLabel(t, r, today)).join(', ')}`] : []),
        '',
      ].join('\n'),
    );
  }
}
