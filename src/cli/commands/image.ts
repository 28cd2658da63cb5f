import path from 'node:path';
import { connectEngine } from '../../docker/engine.js';
import { checkImageReference } from '../../docker/reference.js';
import { loadImageTarball } from '../../docker/load.js';
import { imageLabels, writeImage, type ImageFormat, type ImageSpec } from '../../emit/image.js';
import { formatBytes } from '../../util/format.js';
import { unzippedSize } from '../../emit/archive-entries.js';
import { withLayerContents } from '../../layer/open.js';
import { READ_LIMITS } from '../../layer/limits.js';
import { buildLayer, gateBuild } from '../../pipeline/build.js';
import { Diagnostics } from '../../util/diagnostics.js';
import { gateLayer, madeElsewhereGateInput, type GateOptions, type GateReport } from '../../check/gate.js';
import { checkOutputs, outputRule, type OutputTarget, type ReplacePolicy } from '../../emit/outputs.js';
import type { LayerManifest } from '../../format/layer-manifest.js';
import { toolVersion } from '../../util/version.js';
import { parseArch, type Arch } from '../../registry/arch.js';
import { loadTarget } from '../../registry/load.js';
import { UserError } from '../../util/errors.js';
import { withTempDir } from '../../util/tempdir.js';
import { Reporter, outputMode } from '../ui.js';
import type { Command } from '@commander-js/extra-typings';
import { addBuildOptions, buildRequest, parsePackageArg, replacePolicy } from '../build-options.js';
import type { OptionsOf } from '../options.js';
import { buildSpec } from '../../pipeline/request.js';
import type { GatedLayer } from '../../format/gated.js';

function declareImage(program: Command) {
  return addBuildOptions(
    program
      .command('image')
      .description(
        'Build the layer as a container image holding only /opt (FROM scratch), load it into the Docker engine, ' +
          'and print the COPY line for your Dockerfile; or write it as an OCI or docker-archive tarball (no engine needed for that step).',
      )
      .argument('[packages...]', 'package names, optionally pinned as NAME=VERSION')
      .option('--tag <name:tag>', 'name of the image, in the engine and in tarballs (default: yumda/<package>:<target>-<arch>)')
      .option('--oci <file>', 'write an OCI image layout tarball (gzip layer; `docker load` reads it too)')
      .option('--docker-archive <file>', 'write a `docker save` tarball (for `docker load`)')
      .option('--load', 'load the image into the Docker engine also when writing --oci or --docker-archive')
      .option('--force', 'write a tarball in place of a file or link that yumda did not write')
      .option('--layer <zip>', 'make the image of this layer zip (or image tarball) instead of building one')
      .addHelpText(
        'after',
        '\nExamples:\n' +
          '  yumda image poppler-utils --tag deps/poppler:debian12\n' +
          '    then in your Dockerfile: COPY --from=deps/poppler:debian12 /opt /opt\n' +
          '  yumda image --layer poppler.zip --oci poppler-oci.tar   # no Docker engine needed\n',
      ),
  );
}

export type ImageOptions = OptionsOf<ReturnType<typeof declareImage>>;

/** `yumda image [PACKAGE...]`: the layer as an image holding only /opt. */
export function registerImage(program: Command): void {
  declareImage(program).action((packages, opts) => imageCommand(packages, opts));
}

/** A reference Docker accepts as a tag: lowercase repository path, optional `:tag`, no digest. */
export function checkTag(ref: string): string {
  if (ref.includes('@')) throw new UserError(`--tag: '${ref}' has a digest; a tag is NAME[:TAG]`);
  return checkImageReference(ref, '--tag', { tag: true });
}

/** `yumda/poppler-utils:debian12-x86_64`: a default tag that says what the image holds. */
export function defaultTag(m: Pick<LayerManifest, 'requested' | 'target' | 'arch'>): string {
  const name = (m.requested[0] ?? 'layer')
    .replace(/=.*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]/g, '-');
  return `yumda/${name}:${m.target}-${m.arch}`;
}

interface Made {
  /** The config's digest: what `docker images` shows as IMAGE ID. */
  imageId: string;
  /** The OCI manifest's digest, when an OCI tarball was written. */
  manifestDigest?: string;
  tag?: string;
  labels: Record<string, string>;
  outputs: Array<{ format: ImageFormat; path: string; bytes: number }>;
  loaded: boolean;
  unzippedBytes: number;
}

interface Request {
  tag: string | undefined;
  files: Array<{ format: ImageFormat; path: string }>;
  load: boolean;
  /** The layer zip the image is made of, for messages. */
  from?: string | undefined;
  replace: ReplacePolicy;
}

function imageTarget(f: { format: ImageFormat; path: string }): OutputTarget {
  return { path: f.path, kind: 'image', what: f.format === 'oci' ? '--oci' : '--docker-archive' };
}

/** Writes the tarballs asked for and loads the image into the engine when asked to. */
async function makeImage(layer: GatedLayer, manifest: LayerManifest | undefined, arch: Arch, req: Request, ui: Reporter): Promise<Made> {
  const tag = req.tag ?? (manifest ? defaultTag(manifest) : undefined);
  if (req.load && !tag) throw new UserError(`${req.from} has no yumda manifest to name the image after`, { hint: 'give --tag NAME:TAG' });
  const spec: ImageSpec = { arch, labels: manifest ? imageLabels(manifest) : {}, tag };
  const made: Made = { imageId: '', labels: spec.labels, outputs: [], loaded: false, unzippedBytes: unzippedSize(layer), ...(tag ? { tag } : {}) };
  for (const f of req.files) {
    ui.step(`writing ${f.path} (${f.format})`);
    const r = await writeImage(layer, spec, f.format, f.path, toolVersion, outputRule(imageTarget(f), req.replace));
    made.imageId = r.imageId;
    if (f.format === 'oci') made.manifestDigest = r.manifestDigest;
    made.outputs.push({ ...f, bytes: r.bytes });
  }
  if (req.load) {
    const docker = await connectEngine();
    ui.step(`loading ${tag} into the Docker engine`);
    made.imageId = await withTempDir(async (dir) => {
      const tarball = path.join(dir, 'image.tar');
      const r = await writeImage(layer, spec, 'docker-archive', tarball, toolVersion);
      await loadImageTarball(docker, tarball, ui.detail);
      const id = (await docker.getImage(tag!).inspect()).Id;
      if (id !== r.imageId) throw new Error(`the engine reports ${tag} as ${id}, not the ${r.imageId} yumda wrote`);
      return r.imageId;
    });
    made.loaded = true;
  }
  return made;
}

/**
 * `yumda image`: the layer as an image that holds only /opt, loaded into the engine (tagged) for
 * `COPY --from=<tag> /opt /opt`, and/or written as an OCI or docker-archive tarball. Writing a
 * tarball needs no engine: with `--layer`, nothing here does.
 */
export async function imageCommand(packages: string[], opts: ImageOptions): Promise<void> {
  if (opts.layer && packages.length) throw new UserError('give packages to build, or --layer with a layer zip, not both');
  if (!opts.layer && !packages.length) throw new UserError('no packages given', { hint: 'yumda image PACKAGE... [--tag NAME:TAG], or --layer LAYER.zip' });
  if (opts.tag) checkTag(opts.tag);
  const files: Request['files'] = [];
  if (opts.oci) files.push({ format: 'oci', path: path.resolve(opts.oci) });
  if (opts.dockerArchive) files.push({ format: 'docker-archive', path: path.resolve(opts.dockerArchive) });
  // loading into the engine is the default; asking for a tarball asks for just that, unless --load
  const req: Request = { tag: opts.tag, files, load: files.length === 0 || !!opts.load, from: opts.layer, replace: replacePolicy(opts) };
  await checkOutputs(files.map(imageTarget), replacePolicy(opts));
  const ui = new Reporter(outputMode(opts));
  // an image is not bound by a layer's 250 MB, but by a container image's 10 GB
  const gateOptions: GateOptions = { allowMissing: !!opts.allowMissing, force: false, limit: 'image' };
  const diagnostics = new Diagnostics((w) => ui.warn(w));

  let made: Made;
  let gate: GateReport;
  if (opts.layer) {
    made = await withLayerContents(
      path.resolve(opts.layer),
      (layer, tree) => {
        gate = gateLayer(madeElsewhereGateInput(tree, layer.manifest, opts.runtimeManifest, diagnostics), gateOptions, diagnostics);
        return makeImage(gate.layer, layer.manifest, parseArch(layer.manifest?.arch ?? opts.arch), req, ui);
        // an image may hold more than a layer zip may: read up to a container image's limit
      },
      { limit: READ_LIMITS.image },
    );
  } else {
    const arch = parseArch(opts.arch);
    const target = loadTarget(opts.target);
    // the packages are named as --from's distribution names them
    const requests = packages.map((p) => parsePackageArg(p, loadTarget(opts.from ?? target.id).family));
    const result = await buildLayer(buildSpec({ ...buildRequest(requests, target.id, arch, opts), dryRun: false, output: 'image' }), ui, diagnostics);
    gate = gateBuild(result, gateOptions);
    made = await makeImage(gate.layer, result.manifest, arch, req, ui);
  }
  ui.done();
  if (opts.json) {
    const image = { id: made.imageId, manifestDigest: made.manifestDigest, tag: made.tag, loaded: made.loaded, labels: made.labels };
    process.stdout.write(
      JSON.stringify({ image, outputs: made.outputs, unzippedBytes: made.unzippedBytes, warnings: gate!.warnings, missingLibraries: gate!.missingLibraries }, null, 2) + '\n',
    );
    return;
  }
  for (const o of made.outputs)
    ui.info(`Wrote ${o.path}: ${o.format} image tarball, ${formatBytes(o.bytes)} (image ${made.imageId}${o.format === 'oci' ? `, manifest ${made.manifestDigest}` : ''})`);
  if (made.loaded) {
    ui.info(`Loaded ${made.tag} into the Docker engine: image ${made.imageId} (/opt only, ${formatBytes(made.unzippedBytes)})`);
    ui.info(`In your Dockerfile:\n  COPY --from=${made.tag} /opt /opt`);
  }
}
