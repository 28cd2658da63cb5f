import path from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { Command } from '@commander-js/extra-typings';
import { addBuildOptions, buildRequest, type BuildOptions } from '../../src/cli/build-options.js';
import type { WhyOptions } from '../../src/cli/commands/why.js';
import type { InstallOptions } from '../../src/cli/commands/install.js';
import type { PublishOptions } from '../../src/cli/commands/publish.js';
import type { BuildOptions as ProjectBuildOptions } from '../../src/cli/commands/build.js';
import { buildSpec, querySpec, type BuildRequest } from '../../src/pipeline/request.js';
import type { BuildSpec } from '../../src/pipeline/spec.js';
import type { LockedLayer } from '../../src/project/lock.js';
import type { LayerJob } from '../../src/project/manifest.js';
import { layerLabel, layerRequest } from '../../src/project/request.js';
import { parseArch } from '../../src/registry/arch.js';

/** The defaults of a build, in one place (pipeline/request.ts); every way into a build goes through them. */

const x86 = parseArch('x86_64');
const arm = parseArch('arm64');
const jq = [{ name: 'jq' }];
const noEnv = {};

/** A build of jq for debian12 on x86_64 with every default: what each row below changes. */
const DEFAULTS: BuildSpec = {
  packages: jq,
  target: 'debian12',
  arch: x86,
  buildImage: undefined,
  repos: [],
  defaultRepos: true,
  runtimeManifest: undefined,
  keep: { docs: false, locales: false, headers: false, staticLibs: false },
  keepUnusable: [],
  recipeDirs: [],
  network: undefined,
  cacheDir: undefined,
  refresh: false,
  dryRun: false,
  frozen: undefined,
  local: false,
  disposable: false,
  pack: false,
  from: undefined,
  output: 'layer',
  scripts: true,
};

describe('buildSpec: the defaults of a build', () => {
  it('fills in every default of a request that names only what to build', () => {
    expect(buildSpec({ packages: jq, target: 'debian12', arch: x86 }, noEnv)).toStrictEqual(DEFAULTS);
  });

  const locked = { name: 'jq', arch: 'x86_64', target: 'debian12', requested: jq, repositories: [], buildImage: { ref: 'b', id: 'sha256:1' }, packages: [] } as LockedLayer;
  it.each<[string, Partial<BuildRequest>, Partial<BuildSpec>]>([
    ['another architecture', { arch: arm }, { arch: arm }],
    ['a build image', { buildImage: 'my/image:1' }, { buildImage: 'my/image:1' }],
    ['extra repositories', { repos: ['http://x/ stable main'] }, { repos: ['http://x/ stable main'] }],
    ['only the extra repositories', { defaultRepos: false }, { defaultRepos: false }],
    ['the default repositories said outright', { defaultRepos: true }, {}],
    ['a runtime manifest', { runtimeManifest: '/r.json' }, { runtimeManifest: '/r.json' }],
    ['one kind kept', { keep: { docs: true } }, { keep: { docs: true, locales: false, headers: false, staticLibs: false } }],
    ['every kind kept', { keep: { docs: true, locales: true, headers: true, staticLibs: true } }, { keep: { docs: true, locales: true, headers: true, staticLibs: true } }],
    ['a kind left unset', { keep: { docs: undefined, headers: true } }, { keep: { docs: false, locales: false, headers: true, staticLibs: false } }],
    ['unusable groups kept', { keepUnusable: ['all'] }, { keepUnusable: ['all'] }],
    ['absolute recipe directories', { recipeDirs: ['/r'] }, { recipeDirs: ['/r'] }],
    ['relative recipe directories, from the working directory', { recipeDirs: ['r', './s/'] }, { recipeDirs: [path.resolve('r'), path.resolve('s')] }],
    ['a network', { network: 'host' }, { network: 'host' }],
    ['a cache directory', { cacheDir: '/c' }, { cacheDir: '/c' }],
    ['--refresh', { refresh: true }, { refresh: true }],
    ['a dry run', { dryRun: true }, { dryRun: true }],
    ['a lock to match', { frozen: { locked, label: 'l' } }, { frozen: { locked, label: 'l' } }],
    ['--local', { local: true }, { local: true }],
    ['--local --disposable', { local: true, disposable: true }, { local: true, disposable: true }],
    ['pins', { pins: [{ name: 'jq', version: '1', arch: 'amd64' }] }, { pins: [{ name: 'jq', version: '1', arch: 'amd64' }] }],
    ['a name', { name: 'tools' }, { name: 'tools' }],
    ['--pack', { pack: true }, { pack: true }],
    ['--from', { from: 'debian13' }, { from: 'debian13' }],
    ['an image', { output: 'image' }, { output: 'image' }],
    ['--no-scripts', { scripts: false }, { scripts: false }],
    ['every optional field undefined', { buildImage: undefined, repos: undefined, keep: undefined, refresh: undefined, scripts: undefined, pins: undefined, name: undefined }, {}],
  ])('%s', (_what, request, changed) => {
    expect(buildSpec({ packages: jq, target: 'debian12', arch: x86, ...request }, noEnv)).toStrictEqual({ ...DEFAULTS, ...changed });
  });

  it.each<[string, string | undefined, NodeJS.ProcessEnv, string | undefined]>([
    ['no network anywhere: the engine default', undefined, {}, undefined],
    ['YUMDA_DOCKER_NETWORK when none is asked for', undefined, { YUMDA_DOCKER_NETWORK: 'host' }, 'host'],
    ['the one asked for over YUMDA_DOCKER_NETWORK', 'bridge', { YUMDA_DOCKER_NETWORK: 'host' }, 'bridge'],
  ])('network: %s', (_what, network, env, expected) => {
    expect(buildSpec({ packages: jq, target: 'debian12', arch: x86, network }, env).network).toBe(expected);
  });

  it('says dryRun in its type only when the request says it outright (checked by tsc)', () => {
    const request = { packages: jq, target: 'debian12', arch: x86 };
    expectTypeOf(buildSpec({ ...request, dryRun: true }).dryRun).toEqualTypeOf<true>();
    expectTypeOf(buildSpec({ ...request, dryRun: false }).dryRun).toEqualTypeOf<false>();
    // a flag commander leaves undefined may be either
    const flag = undefined as true | undefined;
    expectTypeOf(buildSpec({ ...request, dryRun: flag }).dryRun).toEqualTypeOf<boolean | undefined>();
    expect(buildSpec({ ...request, dryRun: flag }, noEnv).dryRun).toBe(false);
  });

  it('reads YUMDA_DOCKER_NETWORK from the environment when none is given', () => {
    const before = process.env.YUMDA_DOCKER_NETWORK;
    process.env.YUMDA_DOCKER_NETWORK = 'from-env';
    try {
      expect(buildSpec({ packages: jq, target: 'debian12', arch: x86 }).network).toBe('from-env');
    } finally {
      if (before === undefined) delete process.env.YUMDA_DOCKER_NETWORK;
      else process.env.YUMDA_DOCKER_NETWORK = before;
    }
  });
});

describe('querySpec: the defaults of search and why', () => {
  it.each<[string, Parameters<typeof querySpec>[0], NodeJS.ProcessEnv, ReturnType<typeof querySpec>]>([
    [
      'a target and an architecture only',
      { target: 'al2023', arch: x86 },
      {},
      {
        target: 'al2023',
        arch: x86,
        repos: [],
        defaultRepos: true,
        buildImage: undefined,
        network: undefined,
        refresh: false,
        local: false,
        from: undefined,
        runtimeManifest: undefined,
      },
    ],
    [
      'every field given',
      { target: 'debian12', arch: arm, repos: ['r'], defaultRepos: false, buildImage: 'b', network: 'n', refresh: true, local: true, from: 'debian13', runtimeManifest: '/m' },
      { YUMDA_DOCKER_NETWORK: 'host' },
      { target: 'debian12', arch: arm, repos: ['r'], defaultRepos: false, buildImage: 'b', network: 'n', refresh: true, local: true, from: 'debian13', runtimeManifest: '/m' },
    ],
    [
      'the network from YUMDA_DOCKER_NETWORK',
      { target: 'al2023', arch: x86 },
      { YUMDA_DOCKER_NETWORK: 'host' },
      {
        target: 'al2023',
        arch: x86,
        repos: [],
        defaultRepos: true,
        buildImage: undefined,
        network: 'host',
        refresh: false,
        local: false,
        from: undefined,
        runtimeManifest: undefined,
      },
    ],
  ])('%s', (_what, request, env, expected) => {
    expect(querySpec(request, env)).toStrictEqual(expected);
  });
});

describe('install and image: their options, as commander parses them, as a build', () => {
  /** The build options of a command line, parsed by their declarations (cli/build-options.ts). */
  function parse(args: string[]): BuildOptions {
    const cmd = addBuildOptions(new Command('install').argument('<packages...>').exitOverride());
    return cmd.parse(['jq', ...args], { from: 'user' }).opts();
  }

  it('gives the defaults commander fills in: the repeatable options empty, the --no- ones true', () => {
    expect(parse([])).toStrictEqual({ target: 'al2023', arch: 'x86_64', repo: [], defaultRepos: true, recipes: [], keepUnusable: [], scripts: true });
  });

  it.each<[string, Partial<BuildSpec>]>([
    ['', {}],
    ['--build-image b:1', { buildImage: 'b:1' }],
    ['--repo a --repo b', { repos: ['a', 'b'] }],
    ['--no-default-repos', { defaultRepos: false }],
    ['--runtime-manifest /rt.json', { runtimeManifest: '/rt.json' }],
    ['--recipes my-recipes', { recipeDirs: [path.resolve('my-recipes')] }],
    ['--network host', { network: 'host' }],
    ['--keep-docs', { keep: { ...DEFAULTS.keep, docs: true } }],
    ['--keep-locales', { keep: { ...DEFAULTS.keep, locales: true } }],
    ['--keep-headers', { keep: { ...DEFAULTS.keep, headers: true } }],
    ['--keep-static', { keep: { ...DEFAULTS.keep, staticLibs: true } }],
    ['--keep-docs --keep-locales --keep-headers --keep-static', { keep: { docs: true, locales: true, headers: true, staticLibs: true } }],
    ['--keep-unusable gpu-drivers --keep-unusable all', { keepUnusable: ['gpu-drivers', 'all'] }],
    ['--pack', { pack: true }],
    ['--no-scripts', { scripts: false }],
    ['--refresh', { refresh: true }],
    ['--cache-dir /c', { cacheDir: '/c' }],
    ['--from debian13', { from: 'debian13' }],
    // the target and architecture are the command's to check (loadTarget, parseArch), not the request's
    ['-t debian13 -a arm64', {}],
    // what is not a build's: the gate, the output format
    ['--allow-missing --json -q', {}],
  ])('%s', (args, changed) => {
    expect(buildSpec(buildRequest(jq, 'debian12', x86, parse(args.split(' ').filter(Boolean))), noEnv)).toStrictEqual({ ...DEFAULTS, ...changed });
  });

  it("the handlers' option types are the declarations' (checked by tsc: a misspelt or retyped option does not compile)", () => {
    expectTypeOf<InstallOptions>().toHaveProperty('outDir');
    expectTypeOf<InstallOptions>().not.toHaveProperty('outdir');
    expectTypeOf<InstallOptions['dryRun']>().toEqualTypeOf<true | undefined>();
    expectTypeOf<InstallOptions['run']>().toEqualTypeOf<string[]>();
    expectTypeOf<InstallOptions['keepUnusable']>().toEqualTypeOf<string[]>();
    expectTypeOf<BuildOptions['defaultRepos']>().toEqualTypeOf<boolean>();
    expectTypeOf<BuildOptions['scripts']>().toEqualTypeOf<boolean>();
    expectTypeOf<PublishOptions['name']>().toEqualTypeOf<string>();
    expectTypeOf<ProjectBuildOptions['layer']>().toEqualTypeOf<string[]>();
    expectTypeOf<ProjectBuildOptions>().not.toHaveProperty('keepDocs');
  });

  it("why's fewer options: what it does not have is the default", () => {
    const why: WhyOptions = { target: 'debian12', arch: 'x86_64', repo: ['a'], defaultRepos: true, local: true, limit: '5' };
    expect(buildSpec({ ...buildRequest(jq, 'debian12', x86, why), local: why.local, dryRun: true }, noEnv)).toStrictEqual({ ...DEFAULTS, repos: ['a'], local: true, dryRun: true });
  });
});

describe("a manifest's layer as a build", () => {
  const job: LayerJob = {
    name: 'tools',
    target: 'debian12',
    arch: arm,
    packages: [{ name: 'jq' }, { name: 'git', upstream: '^2' }],
    recipeDirs: ['/project/recipes'],
    repos: ['http://x/ stable main'],
    defaultRepos: false,
    buildImage: 'b:1',
    runtimeManifest: '/project/rt.json',
    keep: { docs: true, locales: false, headers: false, staticLibs: true },
    keepUnusable: ['all'],
    outputs: { zip: '/project/dist/tools-arm64.zip' },
    allowMissing: true,
    pack: true,
    from: 'debian13',
    scripts: false,
  };
  const declared: BuildSpec = {
    ...DEFAULTS,
    packages: job.packages,
    arch: arm,
    name: 'tools',
    buildImage: 'b:1',
    repos: ['http://x/ stable main'],
    defaultRepos: false,
    runtimeManifest: '/project/rt.json',
    keep: { docs: true, locales: false, headers: false, staticLibs: true },
    keepUnusable: ['all'],
    recipeDirs: ['/project/recipes'],
    pack: true,
    from: 'debian13',
    scripts: false,
  };
  const locked = {
    name: 'tools',
    arch: 'arm64',
    target: 'debian12',
    requested: job.packages,
    repositories: [],
    buildImage: { ref: 'b:1', id: 'sha256:1' },
    packages: [
      { name: 'jq', version: '1.6-2.1', arch: 'arm64' },
      { name: 'git', version: '1:2.39.5-0+deb12u2', arch: 'arm64' },
    ],
  } as LockedLayer;

  it.each<[string, Parameters<typeof layerRequest>[1], Partial<BuildSpec>]>([
    ['its declaration, nothing from the run', {}, {}],
    ['the run: network, cache directory, --refresh', { network: 'host', cacheDir: '/c', refresh: true }, { network: 'host', cacheDir: '/c', refresh: true }],
    [
      "the lock's versions: a range resolves to the locked version, and every locked package is a pin",
      { lockedVersions: locked },
      {
        packages: [{ name: 'jq' }, { name: 'git', version: '1:2.39.5-0+deb12u2' }],
        pins: [
          { name: 'jq', version: '1.6-2.1', arch: 'arm64' },
          { name: 'git', version: '1:2.39.5-0+deb12u2', arch: 'arm64' },
        ],
      },
    ],
    ['--frozen: the lock the plan must match, with the layer named', { frozenTo: locked }, { frozen: { locked, label: "layer 'tools' (debian12 arm64)" } }],
    ['no lock entry to freeze to', { frozenTo: undefined, lockedVersions: undefined }, {}],
  ])('%s', (_what, run, changed) => {
    expect(buildSpec(layerRequest(job, run), noEnv)).toStrictEqual({ ...declared, ...changed });
  });

  it('a layer keeping nothing, with the scripts, from the default repositories', () => {
    const plain: LayerJob = {
      ...job,
      keep: { docs: false, locales: false, headers: false, staticLibs: false },
      keepUnusable: [],
      defaultRepos: true,
      repos: [],
      pack: false,
      scripts: true,
    };
    const { buildImage: _b, runtimeManifest: _r, from: _f, ...rest } = plain;
    expect(buildSpec(layerRequest(rest), noEnv)).toStrictEqual({ ...DEFAULTS, packages: job.packages, arch: arm, name: 'tools', recipeDirs: ['/project/recipes'] });
  });

  it('names a layer by its name, target and architecture', () => expect(layerLabel(job)).toBe("layer 'tools' (debian12 arm64)"));
});
