import path from 'node:path';
import { buildLayer, gateBuild, type BuiltLayer, type DryRun } from '../../pipeline/build.js';
import { parseArch } from '../../registry/arch.js';
import { loadTarget } from '../../registry/load.js';
import { checkOutputs } from '../../emit/outputs.js';
import { writeLayerOutputs } from '../../emit/write.js';
import { cachePaths } from '../../cache/paths.js';
import { formatBytes } from '../../util/format.js';
import { unusableLine } from '../../format/unusable.js';
import { packedLines } from '../../format/packed.js';
import { selfContainedLines } from '../../format/self-contained.js';
import type { GateReport } from '../../check/gate.js';
import { dockerfileSnippet } from '../../emit/dockerfile.js';
import { toolVersion } from '../../util/version.js';
import { UserError } from '../../util/errors.js';
import { Reporter, outputMode, supportNotes } from '../ui.js';
import type { Command } from '@commander-js/extra-typings';
import { addBuildOptions, buildRequest, parsePackageArg, replacePolicy } from '../build-options.js';
import { collect, type OptionsOf } from '../options.js';
import { buildSpec } from '../../pipeline/request.js';
import { runVerification, verdict, type Verification } from '../../check/verification.js';
import { plural } from '../../util/plural.js';
import { ENV_PATH, EXEC_WRAPPER_PATH, LAMBDA_DIRECT_UPLOAD_LIMIT, LAMBDA_UNZIPPED_LIMIT } from '../../format/lambda.js';

function declareInstall(program: Command) {
  return addBuildOptions(
    program
      .command('install')
      .description(
        'Build a Lambda layer from packages and their dependencies, minus what the Lambda runtime already has. ' +
          'Executables land in /opt/bin, libraries in /opt/lib, data in /opt/share, config in /opt/etc.',
      )
      .argument('<packages...>', 'package names, optionally pinned as NAME=VERSION')
      .option('-o, --out <file>', 'layer zip to write (default: <package>-<target>-<arch>.zip)')
      .option('--out-dir <dir>', 'write the layer as a directory instead of a zip')
      .option('--force', "write the layer even when it exceeds Lambda's 250 MB unzipped limit, and in place of a file or link at --out that yumda did not write")
      .option('--dry-run', 'resolve and print the plan; build nothing')
      .option('--verify', 'verify the layer (as `yumda verify` does) before writing it; write nothing if it fails')
      .option('--run <command>', 'with --verify: also run this shell command Lambda-like (repeatable)', collect, [])
      .option('--timeout <seconds>', 'with --verify: time limit of each command', '60')
      .option(
        '--local',
        "run the package manager on this machine instead of a build container (it must be the target's distribution, as in a Dockerfile stage); needs no Docker engine",
      )
      .option(
        '--disposable',
        'with --local: this machine is a throwaway build stage, so the maintainer scripts may run by installing the packages on it (the --dockerfile stage passes it)',
      )
      .option('--dockerfile', 'print a Dockerfile snippet that builds the layer inside your own `docker build` (a stage to COPY --from), instead of building it here')
      .option('--yumda-package <spec>', 'with --dockerfile: what the stage installs with npm (default: yumda@<this version>; a tarball or git URL works too)'),
  ).addHelpText(
    'after',
    '\nExamples:\n' +
      '  yumda install poppler-utils                          # al2023 (provided.al2023, nodejs20.x+, python3.12+), x86_64\n' +
      '  yumda install git --target al2 --arch arm64          # Amazon Linux 2 runtimes, Graviton\n' +
      '  yumda install poppler-utils --target debian12 --out poppler.zip --verify\n' +
      '  yumda install git --dry-run --json > plan.json\n' +
      '  yumda install poppler-utils --target debian12 --dockerfile >> Dockerfile.yumda   # a stage: COPY --from=yumda-poppler-utils /opt /opt\n',
  );
}

export type InstallOptions = OptionsOf<ReturnType<typeof declareInstall>>;

/** `yumda install PACKAGE...`: a layer zip (or directory), or with --dockerfile the stage that builds one. */
export function registerInstall(program: Command): void {
  declareInstall(program).action((packages, opts) => installCommand(packages, opts));
}

/** The `install` flags that shape the layer, to pass on to the yumda in a Dockerfile stage. */
function layerFlags(opts: InstallOptions): string[] {
  return [
    ...opts.repo.flatMap((r) => ['--repo', r]),
    ...(opts.keepDocs ? ['--keep-docs'] : []),
    ...(opts.keepLocales ? ['--keep-locales'] : []),
    ...(opts.keepHeaders ? ['--keep-headers'] : []),
    ...(opts.keepStatic ? ['--keep-static'] : []),
    ...opts.keepUnusable.flatMap((g) => ['--keep-unusable', g]),
    ...(opts.force ? ['--force'] : []),
    ...(opts.pack ? ['--pack'] : []),
    ...(opts.from ? ['--from', opts.from] : []),
    ...(opts.scripts === false ? ['--no-scripts'] : []),
  ];
}

export async function installCommand(packages: string[], opts: InstallOptions): Promise<void> {
  const arch = parseArch(opts.arch);
  const target = loadTarget(opts.target);
  // the packages are named as --from's distribution names them
  const requests = packages.map((p) => parsePackageArg(p, loadTarget(opts.from ?? target.id).family));
  if (opts.out && opts.outDir) throw new UserError('--out and --out-dir exclude each other: a zip or a directory');
  if (opts.run.length && !opts.verify) throw new UserError('--run is for --verify: add --verify, or run `yumda verify` on the written layer');
  if (opts.dockerfile) {
    if (opts.recipes.length)
      throw new UserError('--recipes names directories on this machine, which a docker build stage cannot see', {
        hint: 'put the recipes in the yumda package the stage installs (YUMDA_PACKAGE)',
      });
    if (opts.out || opts.outDir || opts.verify || opts.local)
      throw new UserError('--dockerfile prints a Dockerfile snippet and builds nothing: it takes no --out, --out-dir, --verify or --local');
    process.stdout.write(dockerfileSnippet({ target, arch, packages: requests, flags: layerFlags(opts), toolVersion, yumdaPackage: opts.yumdaPackage }));
    return;
  }
  if (opts.disposable && !opts.local) throw new UserError('--disposable says the machine of a --local build may have packages installed on it: it takes --local');
  if (opts.local && opts.verify)
    throw new UserError('--verify needs a Docker engine to run the layer, which --local is for doing without', {
      hint: 'verify the written layer with `yumda verify` where an engine is at hand',
    });
  const out = path.resolve(opts.outDir ?? opts.out ?? `${requests[0]!.name}-${target.id}-${arch.lambda}.zip`);
  const format = opts.outDir ? 'dir' : 'zip';
  if (!opts.dryRun) {
    const target = format === 'dir' ? { path: out, kind: 'dir' as const, what: '--out-dir' } : { path: out, kind: 'zip' as const, what: '--out', withSbom: true };
    await checkOutputs([target], { protect: [cachePaths(opts.cacheDir).root], ...replacePolicy(opts) });
  }
  const ui = new Reporter(outputMode(opts));

  const result = await buildLayer(buildSpec({ ...buildRequest(requests, target.id, arch, opts), dryRun: opts.dryRun, local: opts.local, disposable: opts.disposable }), ui);
  if (result.kind === 'dry-run') {
    ui.done();
    if (opts.json) printJson(result, ui.timeline, undefined);
    return;
  }

  const gate = gateBuild(result, { allowMissing: !!opts.allowMissing, force: !!opts.force, limit: 'layer' });
  let verification: Verification | undefined;
  if (opts.verify) {
    verification = await runVerification(result.layer, result.manifest, result.runtime, { ...opts, network: opts.network }, ui);
    if (!verification.passed) throw new UserError(`${verdict(verification)}; nothing written`);
    if (!opts.json) ui.info(verdict(verification));
  }
  const written = await writeLayerOutputs(gate.layer, result.sbom, format === 'dir' ? { dir: out } : { zip: out }, {
    cacheDir: cachePaths(opts.cacheDir).zips,
    step: ui.step,
    warn: (w) => ui.warn(w),
    replace: replacePolicy(opts),
  });
  ui.done();
  const files = [...result.layer.values()].filter((e) => e.kind !== 'dir').length;
  const output = { path: out, format, zippedBytes: written.zip?.bytes, unzippedBytes: gate.unzippedBytes, entries: files, ...(written.sbom ? { sbom: written.sbom } : {}) };
  if (opts.json) {
    printJson(result, ui.timeline, output, verification, gate);
    return;
  }
  summarize(ui, result, output);
}

function summarize(ui: Reporter, r: BuiltLayer, o: { path: string; format: string; zippedBytes: number | undefined; unzippedBytes: number; entries: number; sbom?: string }): void {
  const pct = ((o.unzippedBytes / LAMBDA_UNZIPPED_LIMIT) * 100).toFixed(1);
  ui.info(
    `Wrote ${o.path}: ${plural(o.entries, 'file or link', 'files and links')}, ${formatBytes(o.unzippedBytes)} unzipped (${pct}% of Lambda's 250 MB limit)` +
      (o.zippedBytes !== undefined ? `, ${formatBytes(o.zippedBytes)} zipped` : ''),
  );
  // the SBOM beside the zip is a file the user did not name: say where it is
  if (o.sbom) ui.info(`  SBOM (CycloneDX 1.5) ${o.sbom}`);
  if (o.zippedBytes !== undefined && o.zippedBytes > LAMBDA_DIRECT_UPLOAD_LIMIT) {
    ui.info(`  over the 50 MB direct-upload limit: publish it through S3`);
  }
  const report = r.report;
  const dropped = Object.entries(report.dropped)
    // a package's empty state directories are dropped too: no files, nothing to say
    .filter(([, d]) => d!.files > 0)
    .map(([why, d]) => `${why} ${plural(d!.files, 'file')} (${formatBytes(d!.bytes)})`)
    .join(', ');
  if (dropped) ui.info(`  left out: ${dropped}`);
  for (const u of r.unusable) ui.info(`  ${unusableLine(u)}`);
  if (report.droppedLinks.length) ui.info(`  left out ${plural(report.droppedLinks.length, 'symlink')} whose target is not in the layer`);
  if (report.collisions.length) for (const c of report.collisions) ui.warn(`${c.kept} and ${c.lost} both land on ${c.to}; kept ${c.kept}`);
  const b = report.binaries;
  if (b.rewrittenPaths.length)
    ui.info(
      `  rewrote ${plural(b.rewrittenPaths.length, 'compiled-in path')} in ${plural(new Set(b.rewrittenPaths.map((x) => x.file)).size, 'binary')}; ${plural(b.libraryPath.length, 'binary')} search${b.libraryPath.length === 1 ? 'es' : ''} /opt/lib first`,
    );
  if (b.rewrittenDirs.length) {
    ui.info(
      `  rewrote ${plural(b.rewrittenDirs.length, 'compiled-in directory')} in ${plural(new Set(b.rewrittenDirs.map((x) => x.file)).size, 'binary')} that name what the layer ships in them:`,
    );
    for (const d of b.rewrittenDirs.slice(0, 8)) ui.info(`    ${d.file}: ${d.from} -> ${d.to} (${d.because})`);
    if (b.rewrittenDirs.length > 8) ui.info(`    … and ${b.rewrittenDirs.length - 8} more (--json lists them all)`);
  }
  if (report.rewritten.length) ui.info(`  rewrote ${plural(report.rewritten.length, 'path')} in ${plural(new Set(report.rewritten.map((x) => x.file)).size, 'text file')}`);
  if (report.alternatives.length)
    ui.info(
      `  made ${plural(report.alternatives.length, 'alternatives link')}: ${report.alternatives
        .slice(0, 6)
        .map((a) => a.link.replace(/^.*\//, ''))
        .join(', ')}${report.alternatives.length > 6 ? ', …' : ''}`,
    );
  for (const u of b.unrewritable) ui.warn(`${u.file}: compiled-in path ${u.path} not rewritten: ${u.why}`);
  if (report.strippedModes.length) {
    ui.info(
      `  cleared setuid/setgid/sticky bits of ${plural(report.strippedModes.length, 'file')} (Lambda cannot use them): ${report.strippedModes
        .slice(0, 4)
        .map((m) => m.path.replace('/opt/', ''))
        .join(', ')}${report.strippedModes.length > 4 ? ', …' : ''}; file capabilities are never carried`,
    );
  }
  if (report.deduplicated.linked.length) {
    ui.info(
      `  shipped ${plural(report.deduplicated.linked.length, 'identical file')} (hard links among them) once, as links to one copy: ${formatBytes(report.deduplicated.savedBytes)} saved`,
    );
  }
  if (report.wrapped.length) {
    ui.info(`  wrapped ${plural(report.wrapped.length, 'program')} to set their environment: ${report.wrapped.map((w) => w.program.replace('/opt/bin/', '')).join(', ')}`);
  }
  for (const l of scriptsLines(r)) ui.info(`  ${l}`);
  if (r.manifest.selfContained) for (const line of selfContainedLines(r.manifest.selfContained, r.runtime.id)) ui.info(`  ${line}`);
  if (r.packed) {
    for (const l of packedLines(r.packed.manifest, r.packed)) ui.info(`  ${l}`);
    ui.info(
      `  in-process use (Node, Python): set AWS_LAMBDA_EXEC_WRAPPER=${EXEC_WRAPPER_PATH} (managed runtimes; elsewhere run it in front of the runtime command); it unpacks at init${Object.keys(r.packed.env).length ? ' and sets ' + Object.keys(r.packed.env).join(', ') : ''}`,
    );
    return;
  }
  const env = Object.entries(report.env);
  if (env.length) {
    ui.info(
      `  code that loads these libraries in-process must set: ${env.map(([k, v]) => `${k}=${v}`).join(' ')} (also in ${ENV_PATH}), or set AWS_LAMBDA_EXEC_WRAPPER=${EXEC_WRAPPER_PATH}`,
    );
  }
}

/** What the maintainer scripts generated, as the summary says it: what the layer ships, what was left out, what was made reproducible. */
export function scriptsLines(r: Pick<BuiltLayer, 'scripts'>): string[] {
  const g = r.scripts;
  if (g.skipped) return [];
  const shipped = g.generated.filter((x) => g.layerPaths.has(x.path));
  const out: string[] = [];
  const bytes = shipped.reduce((n, x) => n + x.bytes, 0);
  const names = shipped.slice(0, 5).map((x) => g.layerPaths.get(x.path)!.replace(/^\/opt\//, ''));
  out.push(
    shipped.length
      ? `maintainer scripts generated ${plural(shipped.length, 'file or link', 'files and links')} the layer ships (${formatBytes(bytes)}${g.reused ? ', reused from the cache' : ''}): ${names.join(', ')}${shipped.length > names.length ? ', …' : ''}`
      : `maintainer scripts ran${g.reused ? ' (reused from the cache)' : ''} and generated nothing the layer ships`,
  );
  if (g.keptState.length) out.push(`  shipped read-only under /opt: ${g.keptState.map((d) => `${d} → /opt${d}`).join(', ')} (generated state programs read)`);
  if (g.leftOut.length) out.push(`  left out of what they generated: ${g.leftOut.map((l) => `${l.why} ${l.files}`).join(', ')}`);
  if (g.normalised.length) out.push(`  made reproducible: ${g.normalised.map((n) => `${n.path} (${n.what})`).join(', ')}`);
  for (const n of g.notes) out.push(`  ${n}`);
  return out;
}

function printJson(r: DryRun | BuiltLayer, timeline: Reporter['timeline'], output: object | undefined, verification?: Verification, gate?: GateReport): void {
  const b = r.kind === 'built' ? r : undefined;
  const doc = {
    target: r.target.id,
    arch: r.arch.lambda,
    runtime: r.runtime.id,
    buildImage: r.image,
    repositories: r.repositories.map((x) => ({
      id: x.id,
      ...(x.url ? { url: x.url } : {}),
      ...(x.release ? { release: x.release } : {}),
      ...(x.suites ? { suites: x.suites } : {}),
      ...(x.mirrorlist ? { mirrorlist: true } : {}),
    })),
    packages: r.plan.packages.map((p) => ({
      name: p.name,
      version: p.version,
      arch: p.arch,
      downloadSize: p.downloadSize,
      installedSize: p.installedSize,
      requested: p.requested,
      requiredBy: p.requiredBy,
      ...(p.repository ? { repository: p.repository } : {}),
      layerBytes: b?.manifest.packages.find((m) => m.name === p.name)?.bytes,
    })),
    ...(supportNotes(r.plan, r.repositories).length ? { notes: supportNotes(r.plan, r.repositories) } : {}),
    fromRuntime: r.plan.fromRuntime,
    skew: r.plan.skew,
    recipes: r.recipes.map((x) => x.name),
    ...(output ? { output } : {}),
    ...(b ? builtJson(b) : {}),
    ...(gate ? { limit: { unzippedBytes: gate.unzippedBytes, limitBytes: gate.limitBytes } } : {}),
    warnings: r.diagnostics.warnings,
    cache: r.cache,
    // process.resourceUsage().maxRSS is in KiB
    stats: { durationMs: Math.round(performance.now()), maxRssBytes: process.resourceUsage().maxRSS * 1024, timeline },
    ...(verification ? { verification: { image: verification.image, passed: verification.passed, checks: verification.checks.map(({ closure: _, ...c }) => c) } } : {}),
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}

/** What --json says of a built layer beyond its plan: relocation, scripts, packing and the closure. */
function builtJson(b: BuiltLayer): object {
  const { report, scripts, packed } = b;
  return {
    dropped: report.dropped,
    droppedLinks: report.droppedLinks.length,
    wrapped: report.wrapped,
    env: report.env,
    alternatives: report.alternatives,
    rewrittenInText: report.rewritten.length,
    rewrittenInBinaries: report.binaries.rewrittenPaths.length,
    rewrittenDirectories: report.binaries.rewrittenDirs,
    unrewritable: report.binaries.unrewritable,
    libraryPathFailed: report.binaries.libraryPathFailed,
    strippedModes: report.strippedModes,
    deduplicated: { files: report.deduplicated.linked.length, savedBytes: report.deduplicated.savedBytes },
    unusable: b.unusable,
    ...(b.manifest.selfContained ? { selfContained: b.manifest.selfContained } : {}),
    scripts: {
      ran: !scripts.skipped,
      ...(scripts.skipped ? { skipped: scripts.skipped } : {}),
      reused: scripts.reused,
      generated: scripts.generated.map((g) => ({ ...g, layerPath: scripts.layerPaths.get(g.path) ?? null })),
      leftOut: scripts.leftOut,
      normalised: scripts.normalised,
      failed: scripts.failed,
      keptState: scripts.keptState,
      notes: scripts.notes,
    },
    ...(packed ? { packed: { ...packed.manifest, unpackMsMeasured: packed.unpackMs, reused: packed.reused, retargetedFiles: packed.retargetedFiles } } : {}),
    missingLibraries: b.missing,
    elfChecked: b.elfChecked,
    ...(b.versions.length ? { missingVersions: b.versions } : {}),
  };
}
