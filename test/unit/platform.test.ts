import type { Docker } from '../../src/docker/client.js';
import { EngineError } from '../../src/docker/http.js';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { verifyImageFor } from '../../src/check/sandbox.js';
import { loadRuntime } from '../../src/registry/load.js';
import { baseOfDockerfile } from '../../src/docker/images.js';
import { ENABLE_EMULATION, existingVariant, platformBase, variantName, withEmulationHint } from '../../src/docker/platform.js';
import { BuildSession } from '../../src/stage/session.js';
import { parseArch } from '../../src/registry/arch.js';
import { parseDockerHost, sshCommand, type DockerHost } from '../../src/docker/host.js';

describe('the base image of a Dockerfile (issue 13: FROM ${BASE} lets an arm64 variant stand in)', () => {
  it.each([
    ['FROM debian:12-slim\nRUN true\n', 'debian:12-slim'],
    ['# c\nARG BASE=debian:12-slim\nFROM ${BASE}\n', 'debian:12-slim'],
    ['ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:2023\nFROM --platform=linux/arm64 $BASE AS b\n', 'public.ecr.aws/amazonlinux/amazonlinux:2023'],
    // an ARG after FROM belongs to the stage: it does not name the base
    ['FROM ${BASE}\nARG BASE=x\n', '${BASE}'],
    ['RUN true\n', undefined],
  ])('%j → %s', (text, base) => {
    expect(baseOfDockerfile(text)).toBe(base);
  });

  it('the images of this repository name their base through ARG BASE, which resolves to the image they were written for', async () => {
    const { dockerfileBase } = await import('../../src/docker/images.js');
    expect(dockerfileBase('images/runtime-debian12/Dockerfile')).toBe('debian:12-slim');
    expect(dockerfileBase('images/debian12/Dockerfile')).toBe('debian:12-slim');
    expect(dockerfileBase('images/al2023/Dockerfile')).toBe('public.ecr.aws/amazonlinux/amazonlinux:2023');
  });
});

describe('the local stand-in of an image of another architecture', () => {
  it.each([
    ['debian:12-slim', 'arm64', 'debian:12-slim-arm64'],
    ['public.ecr.aws/lambda/provided:al2023', 'aarch64', 'public.ecr.aws/lambda/provided:al2023-arm64'],
    ['debian:12-slim', 'x86_64', 'debian:12-slim-amd64'],
  ])('%s for %s is %s', (base, arch, name) => {
    expect(variantName(base, parseArch(arch))).toBe(name);
  });
});

/**
 * An x86_64 engine holding `images` (reference → architecture); inspecting any other gives the
 * engine's 404, or `failWith` as its status. Containers it starts fail as runc does without
 * emulation; `started` records their images.
 */
function engineWith(images: Record<string, string>, failWith?: number) {
  const started: string[] = [];
  const docker = {
    info: async () => ({ Architecture: 'x86_64' }),
    listContainers: async () => [],
    getImage: (ref: string) => ({
      inspect: async () => {
        if (failWith) throw new EngineError('engine trouble', failWith);
        if (!(ref in images)) throw new EngineError(`No such image: ${ref}`, 404);
        return { Id: `sha256:${ref}`, Architecture: images[ref] };
      },
    }),
    createContainer: async (spec: { Image: string }) => {
      started.push(spec.Image);
      return {
        id: 'c1',
        attach: async () => new PassThrough(),
        start: async () => {
          throw new EngineError('exec /usr/bin/true: exec format error', 400);
        },
        wait: async () => ({ StatusCode: 0 }),
        remove: async () => undefined,
      };
    },
  };
  return { docker: docker as unknown as Docker, started };
}

describe("an image of another architecture the engine already has (a --build-image, a runtime's image)", () => {
  const arm64 = parseArch('arm64');
  it.each<[string, Record<string, string>, string | undefined]>([
    ['the image itself is arm64', { 'img:1': 'arm64' }, 'img:1'],
    ['its local variant is', { 'img:1': 'amd64', 'img:1-arm64': 'arm64' }, 'img:1-arm64'],
    ['only the variant is there', { 'img:1-arm64': 'arm64' }, 'img:1-arm64'],
    ['the variant is not arm64 either', { 'img:1': 'amd64', 'img:1-arm64': 'amd64' }, undefined],
    ['no arm64 image', { 'img:1': 'amd64' }, undefined],
    ['no image at all', {}, undefined],
  ])('%s', async (_, images, want) => {
    const { docker } = engineWith(images);
    expect(await existingVariant(docker, 'img:1', arm64)).toBe(want);
    // what a Dockerfile builds FROM: the same image, else the name for the engine to pull
    expect(await platformBase(docker, 'img:1', arm64)).toBe(want ?? 'img:1');
  });

  it('an engine that fails otherwise than with a 404 is not taken for a missing image', async () => {
    await expect(existingVariant(engineWith({}, 500).docker, 'img:1', arm64)).rejects.toThrow('engine trouble');
  });

  it('verify: a runtime without a verify image needs its arm64 image in the engine, and says how to pull it', async () => {
    const runtime = loadRuntime('provided.al2023');
    const { docker, started } = engineWith({ [runtime.image]: 'amd64' });
    expect(await verifyImageFor(docker, runtime, arm64, {})).toEqual({
      cannot: `the layer is arm64, the Docker engine runs x86_64 and cannot run arm64 programs here: no arm64 image of ${runtime.image} is in the engine (docker pull --platform linux/arm64 ${runtime.image})`,
    });
    expect(started).toEqual([]);
    // with the variant there, that is what the emulation probe runs
    const withVariant = engineWith({ [runtime.image]: 'amd64', [`${runtime.image}-arm64`]: 'arm64' });
    expect(await verifyImageFor(withVariant.docker, runtime, arm64, {})).toEqual({
      cannot: `the layer is arm64, the Docker engine runs x86_64 and cannot run arm64 programs here: exec /usr/bin/true: exec format error; ${ENABLE_EMULATION}`,
    });
    expect(withVariant.started).toEqual([`${runtime.image}-arm64`]);
  });

  it('build: a --build-image must have its arm64 variant tagged, and the message says as what', async () => {
    const session = (images: Record<string, string>) => {
      const engine = engineWith(images);
      const s = new BuildSession({ buildImage: 'mine:1', events: {} } as unknown as ConstructorParameters<typeof BuildSession>[0]);
      (s as unknown as { docker: Docker }).docker = engine.docker;
      return { s, started: engine.started };
    };
    const without = session({ 'mine:1': 'amd64' });
    expect(await without.s.runnerFor(arm64)).toEqual({
      cannot: 'the Docker engine is x86_64 and does not run arm64 programs: --build-image mine:1 is x86_64; tag its arm64 variant as mine:1-arm64',
    });
    expect(without.started).toEqual([]);
    const tagged = session({ 'mine:1': 'amd64', 'mine:1-arm64': 'arm64' });
    expect(await tagged.s.runnerFor(arm64)).toEqual({
      cannot: `the Docker engine is x86_64 and does not run arm64 programs: exec /usr/bin/true: exec format error; ${ENABLE_EMULATION}`,
    });
    expect(tagged.started).toEqual(['mine:1-arm64']);
  });
});

describe('verifying a layer of an architecture the engine does not emulate', () => {
  /** An x86_64 engine that has the arm64 runtime image but no qemu registered: starting it fails as runc does. */
  const engineWithoutEmulation = () => {
    const removed: string[] = [];
    const docker = {
      info: async () => ({ Architecture: 'x86_64' }),
      listContainers: async () => [],
      getImage: (ref: string) => ({ inspect: async () => ({ Id: `sha256:${ref}`, Architecture: 'arm64' }) }),
      createContainer: async () => ({
        id: 'c1',
        attach: async () => new PassThrough(),
        start: async () => {
          throw new EngineError('failed to create shim: OCI runtime create failed: runc create failed: exec /usr/bin/true: exec format error: unknown', 400);
        },
        wait: async () => ({ StatusCode: 0 }),
        remove: async () => {
          removed.push('c1');
        },
      }),
    };
    return { docker: docker as unknown as Docker, removed };
  };

  it('says which programs cannot run, the engine’s reason, and how to turn emulation on; the probe container is removed', async () => {
    const { docker, removed } = engineWithoutEmulation();
    const r = await verifyImageFor(docker, loadRuntime('debian12'), parseArch('arm64'), {});
    expect(r).toEqual({
      cannot:
        'the layer is arm64, the Docker engine runs x86_64 and cannot run arm64 programs here: failed to create shim: OCI runtime create failed: runc create failed: exec /usr/bin/true: exec format error: unknown; ' +
        ENABLE_EMULATION,
    });
    expect(ENABLE_EMULATION).toContain('docker run --privileged --rm tonistiigi/binfmt --install arm64');
    expect(ENABLE_EMULATION).toContain('apt-get install qemu-user-static binfmt-support');
    expect(removed).toEqual(['c1']);
  });
});

describe('when a reason to skip says how to turn emulation on', () => {
  it.each([
    // the trivial container did not run: whatever the engine said, emulation is what is missing
    ['exec /usr/bin/true: exec format error', true, true],
    ['some other runc message', true, true],
    // a RUN step of the arm64 build image failed for want of emulation
    ["The command '/bin/sh -c apt-get update' returned a non-zero code: 1: exec /bin/sh: exec format error", false, true],
    // the base image could not be pulled: emulation would not help
    ['building image yumda/build-debian12:x-arm64 failed: pull access denied for debian', false, false],
  ])('%s (probe %s): hint %s', (why, probed, hinted) => {
    expect(withEmulationHint(why, probed)).toBe(hinted ? `${why}; ${ENABLE_EMULATION}` : why);
  });
});

describe('DOCKER_HOST (issue 19, item 11e)', () => {
  it.each<[string | undefined, DockerHost | RegExp]>([
    [undefined, { kind: 'default' }],
    ['unix:///var/run/docker.sock', { kind: 'passthrough' }],
    ['tcp://10.0.0.2:2376', { kind: 'passthrough' }],
    ['10.0.0.2:2375', { kind: 'passthrough' }],
    ['ssh://deploy@build.example:2222', { kind: 'ssh', host: 'build.example', user: 'deploy', port: 2222 }],
    ['ssh://build.example', { kind: 'ssh', host: 'build.example' }],
    ['ssh://[::1]:22', { kind: 'ssh', host: '::1', port: 22 }],
    ['foo://x', /^DOCKER_HOST=foo:\/\/x: yumda reaches a Docker engine through unix:\/\/, tcp:\/\/ or ssh:\/\/, not foo:\/\/$/],
    ['ssh://host/path', /expected ssh:\/\/\[USER@\]HOST\[:PORT\]/],
  ])('%s', (value, want) => {
    if (want instanceof RegExp) expect(() => parseDockerHost(value)).toThrow(want);
    else expect(parseDockerHost(value)).toEqual(want);
  });

  it('ssh is told to fail rather than prompt, and to run the engine dial on the host', () => {
    expect(sshCommand({ kind: 'ssh', host: 'h', user: 'u', port: 2 })).toEqual([
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=10',
      '-l',
      'u',
      '-p',
      '2',
      '--',
      'h',
      'docker',
      'system',
      'dial-stdio',
    ]);
  });
});
