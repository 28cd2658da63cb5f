import path from 'node:path';
import { buildLayer, type BuildResult, type BuildSpec } from '../../pipeline/build.js';
import { parseArch, type Arch } from '../../registry/arch.js';
import { loadTarget } from '../../registry/load.js';
import type { PackageRequest } from '../../resolve/backend.js';
import { writeLayerDir } from '../../emit/dir.js';
import { writeLayerZipCached } from '../../emit/zip.js';
import { cachePaths } from '../../cache/layout.js';
import { checkUnzippedLimit, formatBytes, LAMBDA_DIRECT_UPLOAD_LIMIT, LAMBDA_UNZIPPED_LIMIT } from '../../emit/limits.js';
import { unzippedSize } from '../../emit/layout.js';
import { dockerfileSnippet } from '../../emit/dockerfile.js';
import { toolVersion } from '../../pipeline/manifest.js';
import { UserError } from '../../util/errors.js';
import { writeAtomically } from '../../util/atomic.js';
import { sbomPathFor } from '../../sbom/cyclonedx.js';
import { writeFileSync } from 'node:fs';
import { Reporter, outputMode } from '../ui.js';
import { runVerification, verdict, type Verification } from './verify.js';

/** Options that say what to build, shared by `install` and `image`. */
export interface BuildOptions {
  target: string;
  arch: string;
  buildImage?: string;
  repo: string[];
  /** false with --no-default-repos */
  defaultRepos?: boolean;
  runtimeManifest?: string;
  network?: string;
  recipes: string[];
  keepDocs?: boolean;
  keepLocales?: boolean;
  keepHeaders?: boolean;
  keepStatic?: boolean;
  force?: boolean;
  allowMissing?: boolean;
  refresh?: boolean;
  dryRun?: boolean;
  cacheDir?: string;
  /** Run the package manager on this machine (a Dockerfile stage), not in a build container. */
  local?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export interface InstallOptions extends BuildOptions {
  out?: string;
  outDir?: string;
  verify?: boolean;
  run: string[];
  timeout: string;
  /** Print a Dockerfile snippet that builds the layer in a `docker build` stage, instead of building. */
  dockerfile?: boolean;
  yumdaPackage?: string;
}

/** `name` or `name=version`. */
export function parsePackageArg(arg: string): PackageRequest {
  const m = /^([A-Za-z0-9][A-Za-z0-9.+_-]*)(?:=(\S+))?$/.exec(arg.trim());
  if (!m) throw new UserError(`'${arg}' is not a package name (expected NAME or NAME=VERSION)`);
  return m[2] ? { name: m[1]!, version: m[2] } : { name: m[1]! };
}

/** The build the options of `install` (and `image`) describe. */
export function buildSpec(requests: PackageRequest[], target: string, arch: Arch, opts: BuildOptions): BuildSpec {
  return {
    packages: requests,
    target,
    arch,
    buildImage: opts.buildImage,
    repos: opts.repo,
    keep: { docs: !!opts.keepDocs, locales: !!opts.keepLocales, headers: !!opts.keepHeaders, staticLibs: !!opts.keepStatic },
    recipeDirs: opts.recipes.map((r) => path.resolve(r)),
    network: opts.network ?? process.env.YUMDA_DOCKER_NETWORK,
    cacheDir: opts.cacheDir,
    refresh: !!opts.refresh,
    dryRun: !!opts.dryRun,
    local: !!opts.local,
    defaultRepos: opts.defaultRepos !== false,
    runtimeManifest: opts.runtimeManifest,
  };
}

/** The `install` flags that shape the layer, to pass on to the yumda in a Dockerfile stage. */
function layerFlags(opts: InstallOptions): string[] {
  return [
    ...opts.repo.flatMap((r) => ['--repo', r]),
    ...(opts.keepDocs ? ['--keep-docs'] : []),
    ...(opts.keepLocales ? ['--keep-locales'] : []),
    ...(opts.keepHeaders ? ['--keep-headers'] : []),
    ...(opts.keepStatic ? ['--keep-static'] : []),
    ...(opts.force ? ['--force'] : []),
  ];
}

export async function installCommand(packages: string[], opts: InstallOptions): Promise<void> {
  const requests = packages.map(parsePackageArg);
  const arch = parseArch(opts.arch);
  const target = loadTarget(opts.target);
  if (opts.out && opts.outDir) throw new UserError('--out and --out-dir exclude each other: a zip or a directory');
  if (opts.run.length && !opts.verify) throw new UserError('--run is for --verify: add --verify, or run `yumda verify` on the written layer');
  if (opts.dockerfile) {
    if (opts.recipes.length) throw new UserError('--recipes names directories on this machine, which a docker build stage cannot see', { hint: 'put the recipes in the yumda package the stage installs (YUMDA_PACKAGE)' });
    if (opts.out || opts.outDir || opts.verify || opts.local) throw new UserError('--dockerfile prints a Dockerfile snippet and builds nothing: it takes no --out, --out-dir, --verify or --local');
    process.stdout.write(dockerfileSnippet({ target, arch, packages: requests, flags: layerFlags(opts), toolVersion, yumdaPackage: opts.yumdaPackage }));
    return;
  }
  if (opts.local && opts.verify) throw new UserError('--verify needs a Docker engine to run the layer, which --local is for doing without', { hint: 'verify the written layer with `yumda verify` where an engine is at hand' });
  const out = path.resolve(opts.outDir ?? opts.out ?? `${requests[0]!.name}-${target.id}-${arch.lambda}.zip`);
  const ui = new Reporter(outputMode(opts));

  const result = await buildLayer(buildSpec(requests, target.id, arch, opts), ui);
  if (opts.dryRun || !result.layer) {
    ui.done();
    if (opts.json) printJson(result, undefined);
    return;
  }

  for (const w of result.warnings) ui.warn(w);
  checkMissingLibraries(ui, result, !!opts.allowMissing);
  const unzipped = unzippedSize(result.layer);
  checkUnzippedLimit(unzipped, !!opts.force);
  let verification: Verification | undefined;
  if (opts.verify) {
    verification = await runVerification(result.layer, result.manifest, result.runtime, { ...opts, network: opts.network }, ui);
    if (!verification.passed) throw new UserError(`${verdict(verification)}; nothing written`);
    if (!opts.json) ui.info(verdict(verification));
  }
  let zipped: number | undefined;
  if (opts.outDir) {
    ui.step(`writing ${out}/`);
    await writeLayerDir(result.layer, out);
  } else {
    ui.step(`writing ${out}`);
    zipped = (await writeLayerZipCached(result.layer, out, cachePaths(opts.cacheDir).zips, (w) => ui.warn(w))).bytes;
    if (result.sbom) {
      const sbom = JSON.stringify(result.sbom, null, 2) + '\n';
      await writeAtomically(sbomPathFor(out), async (tmp) => writeFileSync(tmp, sbom));
    }
  }
  ui.done();
  const files = [...result.layer.values()].filter((e) => e.kind !== 'dir').length;
  const output = { path: out, format: opts.outDir ? 'dir' : 'zip', zippedBytes: zipped, unzippedBytes: unzipped, entries: files };
  if (opts.json) {
    printJson(result, output, verification);
    return;
  }
  summarize(ui, result, output);
}

/** The closure report: which file needs which soname, and which package probably has it. */
function checkMissingLibraries(ui: Reporter, r: BuildResult, allow: boolean): void {
  const missing = r.missing ?? [];
  if (missing.length === 0) return;
  for (const m of missing) {
    ui.warn(`${m.file} needs ${m.soname}, which is neither in the layer nor in the ${r.runtime.id} runtime${m.candidate ? ` (package ${m.candidate} has it)` : ''}`);
  }
  if (allow) return;
  const sonames = [...new Set(missing.map((m) => m.soname))];
  const pkgs = [...new Set(missing.flatMap((m) => (m.candidate ? [m.candidate] : [])))];
  throw new UserError(`${sonames.length} shared ${sonames.length === 1 ? 'library' : 'libraries'} needed by the layer ${sonames.length === 1 ? 'is' : 'are'} missing (${sonames.join(', ')}); nothing written`, {
    hint: pkgs.length ? `add ${pkgs.join(' ')} to the packages, or pass --allow-missing` : 'pass --allow-missing to write the layer anyway',
  });
}

function summarize(ui: Reporter, r: BuildResult, o: { path: string; format: string; zippedBytes: number | undefined; unzippedBytes: number; entries: number }): void {
  const pct = ((o.unzippedBytes / LAMBDA_UNZIPPED_LIMIT) * 100).toFixed(1);
  ui.info(
    `Wrote ${o.path}: ${o.entries} files and links, ${formatBytes(o.unzippedBytes)} unzipped (${pct}% of Lambda's 250 MB limit)` +
      (o.zippedBytes !== undefined ? `, ${formatBytes(o.zippedBytes)} zipped` : ''),
  );
  if (o.zippedBytes !== undefined && o.zippedBytes > LAMBDA_DIRECT_UPLOAD_LIMIT) {
    ui.info(`  over the 50 MB direct-upload limit: publish it through S3`);
  }
  const report = r.report!;
  const dropped = Object.entries(report.dropped)
    .map(([why, d]) => `${why} ${d!.files} files (${formatBytes(d!.bytes)})`)
    .join(', ');
  if (dropped) ui.info(`  left out: ${dropped}`);
  if (report.droppedLinks.length) ui.info(`  left out ${report.droppedLinks.length} symlinks whose target is not in the layer`);
  if (report.collisions.length) for (const c of report.collisions) ui.warn(`${c.kept} and ${c.lost} both land on ${c.to}; kept ${c.kept}`);
  const b = report.binaries;
  if (b.rewrittenPaths.length) ui.info(`  rewrote ${b.rewrittenPaths.length} compiled-in paths in ${new Set(b.rewrittenPaths.map((x) => x.file)).size} binaries; ${b.libraryPath.length} binaries search /opt/lib first`);
  if (report.rewritten.length) ui.info(`  rewrote ${report.rewritten.length} paths in ${new Set(report.rewritten.map((x) => x.file)).size} text files`);
  if (report.alternatives.length) ui.info(`  made ${report.alternatives.length} alternatives links: ${report.alternatives.slice(0, 6).map((a) => a.link.replace(/^.*\//, '')).join(', ')}${report.alternatives.length > 6 ? ', …' : ''}`);
  for (const u of b.unrewritable) ui.warn(`${u.file}: compiled-in path ${u.path} not rewritten: ${u.why}`);
  if (report.wrapped.length) {
    ui.info(`  wrapped ${report.wrapped.length} programs to set their environment: ${report.wrapped.map((w) => w.program.replace('/opt/bin/', '')).join(', ')}`);
  }
  const env = Object.entries(report.env);
  if (env.length) {
    ui.info(`  code that loads these libraries in-process must set: ${env.map(([k, v]) => `${k}=${v}`).join(' ')} (also in /opt/.yumda/env)`);
  }
}

function printJson(r: BuildResult, output: object | undefined, verification?: Verification): void {
  const doc = {
    target: r.target.id,
    arch: r.arch.lambda,
    runtime: r.runtime.id,
    buildImage: r.image,
    repositories: r.repositories.map((x) => ({ id: x.id, url: x.url, ...(x.suites ? { suites: x.suites } : {}), ...(x.mirrorlist ? { mirrorlist: true } : {}) })),
    packages: r.plan.packages.map((p) => ({
      name: p.name,
      version: p.version,
      arch: p.arch,
      downloadSize: p.downloadSize,
      installedSize: p.installedSize,
      requested: p.requested,
      requiredBy: p.requiredBy,
      layerBytes: r.manifest?.packages.find((m) => m.name === p.name)?.bytes,
    })),
    fromRuntime: r.plan.fromRuntime,
    skew: r.plan.skew,
    recipes: r.recipes.map((x) => x.name),
    ...(output ? { output } : {}),
    ...(r.report
      ? {
          dropped: r.report.dropped,
          droppedLinks: r.report.droppedLinks.length,
          wrapped: r.report.wrapped,
          env: r.report.env,
          alternatives: r.report.alternatives,
          rewrittenInText: r.report.rewritten.length,
          rewrittenInBinaries: r.report.binaries.rewrittenPaths.length,
          unrewritable: r.report.binaries.unrewritable,
          libraryPathFailed: r.report.binaries.libraryPathFailed,
        }
      : {}),
    ...(r.missing ? { missingLibraries: r.missing, elfChecked: r.elfChecked } : {}),
    warnings: r.warnings,
    cache: r.cache,
    // process.resourceUsage().maxRSS is in KiB
    stats: { durationMs: Math.round(performance.now()), maxRssBytes: process.resourceUsage().maxRSS * 1024 },
    ...(verification ? { verification: { image: verification.image, passed: verification.passed, checks: verification.checks.map(({ closure: _, ...c }) => c) } } : {}),
  };
  process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
}
