import { createReadStream, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLayer } from '../../src/layer/open.js';
import { loadRuntime } from '../../src/registry/load.js';
import { looksLikeRenderedText } from '../helpers/png.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { repoRoot, run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLikeImage } from '../helpers/lambda.js';
import { ensureNodeImage } from '../helpers/node-image.js';

/**
 * Issue 5, `install --dockerfile`: the snippet builds the layer inside an ordinary `docker build`
 * (yumda runs apt in the stage itself, with --local), and the image it goes into renders a page.
 * yumda is not on the npm registry yet, so the stage installs this checkout's `npm pack` tarball,
 * served on loopback, through the snippet's YUMDA_PACKAGE build argument.
 */
describe("install --dockerfile: the layer built in a stage of the user's own docker build", () => {
  const work = tempDir('yumda-dockerfile-');
  const zip = path.join(work, 'poppler.zip');
  const appTag = `yumda-test/dockerfile-app:e2e-${process.pid}`;
  let server: http.Server;
  let packageUrl: string;
  let nodeImage: string;
  let runtimeImage: string;

  beforeAll(async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', zip, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const pack = await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: repoRoot });
    expect(pack.code, pack.stderr).toBe(0);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    server = http.createServer((req, res) => {
      if (req.url !== `/${tarball}`) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      createReadStream(path.join(work, tarball)).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    packageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${tarball}`;
    nodeImage = await ensureNodeImage();
    const runtime = loadRuntime('debian12');
    runtimeImage = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  afterAll(async () => {
    server?.close();
    await run('docker', ['rmi', appTag]);
    // the snippet's two stages stay behind as untagged images; they carry the snippet's label
    const stages = (await run('docker', ['image', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'label=org.yumda.stage=yumda-poppler-utils'])).stdout
      .split('\n')
      .filter(Boolean);
    if (stages.length) await run('docker', ['rmi', ...stages]);
  });

  it('prints the snippet without a Docker engine; a Dockerfile FROM the runtime with COPY --from the stage builds, holds the same layer, and renders a page', async () => {
    const s = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--dockerfile'], { env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
    expect(s.stderr).toBe('');
    expect(s.code).toBe(0);
    const snippet = s.stdout;
    expect(snippet).toContain('ARG YUMDA_NODE_IMAGE=node:22-bookworm-slim\n');
    expect(snippet).toContain('FROM --platform=linux/amd64 ${YUMDA_NODE_IMAGE} AS yumda-poppler-utils-build\n');
    expect(snippet).toContain(' && yumda install poppler-utils --target debian12 --arch x86_64 --local --disposable --out-dir /yumda-layer\n');
    expect(snippet).toContain('FROM scratch AS yumda-poppler-utils\nCOPY --from=yumda-poppler-utils-build /yumda-layer /opt\nLABEL org.yumda.stage=yumda-poppler-utils\n');

    const ctx = path.join(work, 'app');
    mkdirSync(ctx);
    writeFileSync(path.join(ctx, 'hello.pdf'), helveticaPdf('Hello Lambda Layer'));
    // what --local left of apt's state in the build stage, which is the user's machine there
    const hostCheck = 'FROM yumda-poppler-utils-build AS host-apt\nRUN ls -A /var/lib/apt/lists /var/cache/apt > /host-apt.txt; test ! -e /yumda\n';
    writeFileSync(
      path.join(ctx, 'Dockerfile'),
      `${snippet}\n${hostCheck}\nFROM ${runtimeImage}\nCOPY --from=yumda-poppler-utils /opt /opt\nCOPY --from=host-apt /host-apt.txt /work/host-apt.txt\nCOPY hello.pdf /work/hello.pdf\n`,
    );
    // --no-cache: the stage must really run yumda, not replay an earlier build of the same text
    const b = await run('docker', [
      'build',
      '--no-cache',
      '--network',
      'host',
      '--build-arg',
      `YUMDA_NODE_IMAGE=${nodeImage}`,
      '--build-arg',
      `YUMDA_PACKAGE=${packageUrl}`,
      '-t',
      appTag,
      ctx,
    ]);
    expect(b.code, b.stdout.slice(-3000) + b.stderr).toBe(0);
    expect(b.stdout).toMatch(/Plan: 32 packages for debian12 x86_64/);
    expect(b.stdout).toMatch(/build image: +this machine \(--local, debian 12\)/);

    // --local kept apt's lists, caches and stamp under /yumda, which it removed: the stage's own apt state is untouched
    const hostApt = await run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/cat', appTag, '/work/host-apt.txt']);
    expect(hostApt.stdout).not.toMatch(/yumda|InRelease|Packages|pkgcache\.bin/);

    // the stage's layer is the very layer `yumda install` writes with a build container
    const listing = await run('docker', [
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      '/bin/sh',
      appTag,
      '-c',
      'cd /opt && find . -mindepth 1 -type f -exec sha256sum {} + | sort -k2; find . -mindepth 1 -type l | sort',
    ]);
    expect(listing.code, listing.stderr).toBe(0);
    const fromZip = (await openLayer(zip)).entries;
    const expected = [
      ...fromZip
        .filter((e) => e.kind === 'file')
        .map((e) => [e.path, e.sha256])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1))
        .map(([p, h]) => `${h}  .${p!.slice(4)}`),
      ...fromZip
        .filter((e) => e.kind === 'symlink')
        .map((e) => `.${e.path.slice(4)}`)
        .sort(),
    ];
    expect(listing.stdout.trim().split('\n')).toEqual(expected);

    const r = await runLambdaLikeImage(appTag, 'set -e; pdftoppm -png -r 72 /work/hello.pdf /tmp/page; base64 /tmp/page-1.png');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(looksLikeRenderedText(r.stdout)).toMatchObject({ ok: true });
  });
});
