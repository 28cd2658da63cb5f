import type { Docker } from '../docker/client.js';
import path from 'node:path';
import { connectEngine } from '../docker/engine.js';
import { checkNetwork } from '../docker/reference.js';
import { buildImage, contextTag, dockerfileBase, imageExists } from '../docker/images.js';
import { proxyEnv, WorkContainer } from '../docker/container.js';
import { imageIdentity, type ImageIdentity } from '../docker/images.js';
import { parseArch, hostArch, type Arch } from '../registry/arch.js';
import { LocalRunner, localDescription, openLocalWork } from '../runner/local.js';
import type { ProgressState } from '../util/progress.js';
import type { Runner } from '../runner/types.js';
import type { Target } from '../registry/types.js';
import type { Backend, Freshness, MetadataSource, ResolveContext } from '../resolve/backend.js';
import { UserError } from '../util/errors.js';
import { projectRoot } from '../util/paths.js';
import { tarOf } from '../tree/tar.js';
import { engineRuns, ensureForeignImage, existingVariant, variantName, withEmulationHint } from '../docker/platform.js';

/**
 * A scratch root to install into, or why there is none; `close` removes it. `isTheBuildMachine`:
 * it is where the build itself runs (--local --disposable), so nothing may be removed from it
 * while the staging still uses its tools.
 */
export type ScratchRoot = { runner: Runner; close(): Promise<void>; isTheBuildMachine?: boolean } | { cannot: string };

/** A runner for programs of an architecture, or why there is none. */
export type ArchRunner = { runner: Runner } | { cannot: string };

export interface SessionEvents {
  step(title: string): void;
  detail(line: string): void;
  /** Where a long step is (done of total, bytes, rate); `final` for its last state. */
  progress?(state: ProgressState, final: boolean): void;
}

/** The build image a target uses: its Dockerfile context's content decides the tag. */
export function defaultBuildImage(target: Target): string {
  return `${target.buildImage.name}:${contextTag(path.join(projectRoot, target.buildImage.context))}`;
}

/**
 * Where the package manager runs, started only when a step needs it: a warm build whose plan and
 * packages are all cached never talks to the engine. Normally a container of the build image;
 * with `local`, this machine itself (a Dockerfile stage, no engine). The runner is configured and
 * its repository metadata refreshed (or found fresh) once, on first use.
 */
export class BuildSession {
  private docker: Promise<Docker> | undefined;
  /** The build image made sure of, once: the build container and the scratch root start side by side. */
  private imageReady: Promise<void> | undefined;
  private container: WorkContainer | undefined;
  private runner: Runner | undefined;
  private starting: Promise<Runner> | undefined;
  private closeLocal: (() => void) | undefined;
  private foreign: Promise<ArchRunner> | undefined;
  private foreignContainer: WorkContainer | undefined;
  /** Scratch roots being removed: the build goes on meanwhile (a removal is a third of a second), close waits for them. */
  private readonly removing: Promise<void>[] = [];
  private source: MetadataSource | undefined;
  /** The build image for another architecture, once startForeign found or built it. */
  private foreignImage: string | undefined;

  constructor(
    private readonly opts: {
      backend: Backend;
      ctx: ResolveContext;
      buildImage: string | undefined;
      network: string | undefined;
      freshness: Freshness;
      events: SessionEvents;
      /** Run the package manager on this machine instead of a container (--local). */
      local?: boolean;
      /** With `local`: this machine is a throwaway build stage; the maintainer scripts install the packages on it. */
      disposable?: boolean;
      /** For messages: where the default image comes from, and the repositories it would read. */
      imageSource: string;
      repositories: string;
    },
  ) {}

  /** Where the repository metadata came from, once the package manager runs. */
  get metadata(): MetadataSource | undefined {
    return this.source;
  }

  /** The image the session uses (resolving the default needs no engine). */
  /** Whether the package manager already runs (asking it something more then costs no container). */
  get started(): boolean {
    return this.runner !== undefined;
  }

  get image(): string {
    if (this.opts.local) return localDescription(this.opts.ctx.target);
    return this.opts.buildImage ?? defaultBuildImage(this.opts.ctx.target);
  }

  async engine(): Promise<Docker> {
    if (this.opts.local) throw new Error('a --local build has no Docker engine');
    // once: the scratch root starts while the build container works
    this.docker ??= connectEngine();
    return this.docker;
  }

  /** The build image's ID and digests (for lock files); a local build has none. */
  async imageIdentity(): Promise<ImageIdentity> {
    if (this.opts.local) return { id: this.image, repoDigests: [] };
    return imageIdentity(await this.engine(), this.image);
  }

  /** The architecture the runner executes natively (recipe commands run the packages' programs). */
  async nativeArch(): Promise<Arch> {
    if (this.opts.local) return hostArch();
    return parseArch(String((await (await this.engine()).info()).Architecture ?? 'x86_64'));
  }

  /**
   * Where programs of `arch` run (recipe commands run the packages' own programs): the session's
   * runner for the native architecture; for another, a container of the target's build image for
   * that architecture, under the engine's emulation. The answer is found once per session.
   */
  async runnerFor(arch: Arch): Promise<ArchRunner> {
    const native = await this.nativeArch();
    if (native.lambda === arch.lambda) return { runner: await this.get() };
    if (this.opts.local) return { cannot: `a --local build runs programs of this machine (${native.lambda}) only` };
    this.foreign ??= this.startForeign(arch, native);
    return this.foreign;
  }

  private async startForeign(arch: Arch, native: Arch): Promise<ArchRunner> {
    const { ctx, events } = this.opts;
    const docker = await this.engine();
    const cannot = (why: string): ArchRunner => ({ cannot: `the Docker engine is ${native.lambda} and does not run ${arch.lambda} programs: ${why}` });
    let image: string;
    if (this.opts.buildImage) {
      // an image the user gave cannot be rebuilt for another platform: its variant must be there
      const variant = await existingVariant(docker, this.opts.buildImage, arch);
      if (!variant) return cannot(`--build-image ${this.opts.buildImage} is ${native.lambda}; tag its ${arch.lambda} variant as ${variantName(this.opts.buildImage, arch)}`);
      image = variant;
    } else {
      try {
        image = await ensureForeignImage(docker, {
          name: ctx.target.buildImage.name,
          context: ctx.target.buildImage.context,
          arch,
          network: this.opts.network,
          buildArgs: proxyEnv(),
          onLine: (l) => events.detail(l),
          onBuild: (ref) => events.step(`building the ${ctx.target.id} build image for ${arch.lambda}, ${ref}, under emulation (first time only)`),
        });
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        return cannot(withEmulationHint(e.message.split('\n')[0]!));
      }
    }
    const probe = await engineRuns(docker, image);
    if (!probe.ok) return cannot(withEmulationHint(probe.why, true));
    this.foreignImage = image;
    this.foreignContainer = await WorkContainer.start(docker, { image, network: 'none' });
    return { runner: this.foreignContainer };
  }

  /**
   * A fresh container of the build image for `arch`, whose root is a scratch root to install
   * packages into (stage/scripts.ts): nothing else uses it, it has no network, and `close`
   * starts its removal, which the session's own close waits for. A --local build has one only where the machine is declared disposable (the
   * --dockerfile stage): it must not install packages on a machine someone keeps.
   */
  async scratch(arch: Arch): Promise<ScratchRoot> {
    if (this.opts.local && this.opts.disposable) return { runner: await this.get(), close: async () => {}, isTheBuildMachine: true };
    if (this.opts.local) {
      return {
        cannot: 'a --local build runs on this machine, where no package may be installed; build in a container, or pass --disposable where this machine is a throwaway build stage',
      };
    }
    const docker = await this.engine();
    let image = this.image;
    if ((await this.nativeArch()).lambda !== arch.lambda) {
      const foreign = await this.runnerFor(arch);
      if ('cannot' in foreign) return foreign;
      image = this.foreignImage!;
    } else {
      await this.ensureImage(docker);
    }
    const c = await WorkContainer.start(docker, { image, network: 'none' });
    return {
      runner: c,
      close: async () => {
        this.removing.push(c.remove());
      },
    };
  }

  async get(): Promise<Runner> {
    if (this.runner) return this.runner;
    this.starting ??= this.opts.local ? this.startLocal() : this.start();
    return this.starting;
  }

  private async startLocal(): Promise<Runner> {
    const { backend, ctx, events } = this.opts;
    this.closeLocal = openLocalWork(ctx.target);
    const r = new LocalRunner();
    await r.putArchive('/', await tarOf(backend.configFiles(ctx)));
    events.step(`reading the ${ctx.target.id} repositories (${ctx.arch.lambda}) on this machine`);
    this.source = await backend.refresh(r, ctx, events.detail, this.opts.freshness);
    this.runner = r;
    return r;
  }

  private async start(): Promise<Runner> {
    const { backend, ctx, events } = this.opts;
    const docker = await this.engine();
    await checkNetwork(docker, this.opts.network);
    await this.ensureImage(docker);
    const volumes = backend.metadataVolumes(ctx).map((v) => `${v.name}:${v.path}`);
    const c = await WorkContainer.start(docker, { image: this.image, network: this.opts.network, env: proxyEnv(), volumes });
    try {
      await c.putArchive('/', await tarOf(backend.configFiles(ctx)));
      events.step(`reading the ${ctx.target.id} repositories (${ctx.arch.lambda})`);
      this.source = await backend.refresh(c, ctx, events.detail, this.opts.freshness);
    } catch (e) {
      await c.remove();
      throw e;
    }
    this.container = c;
    this.runner = c;
    return c;
  }

  private ensureImage(docker: Docker): Promise<void> {
    this.imageReady ??= this.makeImage(docker);
    return this.imageReady;
  }

  private async makeImage(docker: Docker): Promise<void> {
    const { ctx, events } = this.opts;
    if (this.opts.buildImage) {
      if (!(await imageExists(docker, this.opts.buildImage))) {
        throw new UserError(`build image ${this.opts.buildImage} (from --build-image) is not in the Docker engine`, { hint: 'build or pull it first' });
      }
      return;
    }
    if (await imageExists(docker, this.image)) return;
    events.step(`building the ${ctx.target.id} build image ${this.image} from ${this.opts.imageSource} (first time only)`);
    try {
      await buildImage(docker, this.image, path.join(projectRoot, ctx.target.buildImage.context), {
        network: this.opts.network,
        buildArgs: proxyEnv(),
        onLine: (l) => events.detail(l),
      });
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      const from = dockerfileBase(path.join(projectRoot, ctx.target.buildImage.context, 'Dockerfile'));
      throw new UserError(
        `cannot build the ${ctx.target.id} build image ${this.image} (${this.opts.imageSource}): ${e.message.replace(/^building image \S+ from \S+ failed: /, '').split('\n')[0]}`,
        {
          hint:
            `it would resolve packages from ${this.opts.repositories}; ` +
            (from
              ? `${from} must be reachable (or already in the engine), or pass an image with the package manager as --build-image`
              : 'check the Dockerfile, or pass --build-image'),
        },
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.removing.splice(0));
    if (this.starting) await this.starting.catch(() => undefined);
    if (this.foreign) await this.foreign.catch(() => undefined);
    const f = this.foreignContainer;
    this.foreign = undefined;
    this.foreignContainer = undefined;
    await f?.remove();
    const c = this.container;
    this.container = undefined;
    this.runner = undefined;
    this.starting = undefined;
    await c?.remove();
    this.closeLocal?.();
    this.closeLocal = undefined;
  }
}
