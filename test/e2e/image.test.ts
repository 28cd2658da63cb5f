import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLayer } from '../../src/layer/open.js';
import { loadRuntime } from '../../src/registry/load.js';
import { looksLikeRenderedText } from '../helpers/png.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLikeImage } from '../helpers/lambda.js';

/**
 * Issue 5, image stages: `yumda image` gives an image holding only /opt that a Dockerfile copies
 * from, and the same layer always gives the same image.
 */
describe('yumda image: the layer as a Dockerfile stage', () => {
  const work = tempDir('yumda-image-');
  const zip = path.join(work, 'poppler.zip');
  const tag = `yumda-test/poppler:e2e-${process.pid}`;
  const tagAgain = `yumda-test/poppler:e2e-again-${process.pid}`;
  const appTag = `yumda-test/app:e2e-${process.pid}`;
  const ociTag = `yumda-test/poppler:e2e-oci-${process.pid}`;
  let runtimeImage: string;
  let imageId: string;

  beforeAll(async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', zip, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const runtime = loadRuntime('debian12');
    runtimeImage = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  afterAll(async () => {
    await run('docker', ['rmi', appTag, tag, tagAgain, ociTag]);
  });

  it('loads an image that holds only /opt, labelled with target, arch and packages, and prints the COPY line', async () => {
    const r = await runYumda(['image', '--layer', zip, '--tag', tag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`COPY --from=${tag} /opt /opt`);
    imageId = /image (sha256:[0-9a-f]{64})/.exec(r.stdout)![1]!;
    const inspect = JSON.parse((await run('docker', ['image', 'inspect', tag])).stdout)[0];
    expect(inspect.Id).toBe(imageId);
    expect(inspect.RootFS.Layers).toHaveLength(1);
    expect(inspect.Architecture).toBe('amd64');
    const labels = inspect.Config.Labels as Record<string, string>;
    expect(labels['org.yumda.target']).toBe('debian12');
    expect(labels['org.yumda.arch']).toBe('x86_64');
    expect(labels['org.yumda.packages']).toMatch(/(^|,)libpoppler126=22\.[^,]+(,|$)/);
    expect(labels['org.yumda.packages']).toMatch(/(^|,)poppler-utils=22\.[^,]+(,|$)/);
    // what the engine holds, read back through `docker save`: /opt and the very files of the zip
    const saved = path.join(work, 'saved.tar');
    expect((await run('docker', ['save', '-o', saved, tag])).code).toBe(0);
    const fromEngine = await openLayer(saved);
    const fromZip = await openLayer(zip);
    expect(fromEngine.entries.map((e) => [e.path, e.kind, e.mode, e.sha256 ?? e.target])).toEqual(fromZip.entries.map((e) => [e.path, e.kind, e.mode, e.sha256 ?? e.target]));
  });

  it('a Dockerfile FROM the debian12 runtime image with COPY --from=<the image> /opt /opt builds, and pdftoppm renders a page in it', async () => {
    const ctx = path.join(work, 'app');
    mkdirSync(ctx);
    writeFileSync(path.join(ctx, 'hello.pdf'), helveticaPdf('Hello Lambda Layer'));
    writeFileSync(path.join(ctx, 'Dockerfile'), [`FROM ${runtimeImage}`, `COPY --from=${tag} /opt /opt`, 'COPY hello.pdf /work/hello.pdf', ''].join('\n'));
    const b = await run('docker', ['build', '-q', '--network', 'none', '-t', appTag, ctx]);
    expect(b.code, b.stderr).toBe(0);
    const r = await runLambdaLikeImage(appTag, 'set -e; pdftoppm -png -r 72 /work/hello.pdf /tmp/page; base64 /tmp/page-1.png');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(looksLikeRenderedText(r.stdout)).toMatchObject({ ok: true });
  });

  it('building the image again from the packages gives the same image ID', async () => {
    const r = await runYumda(['image', 'poppler-utils', '--target', 'debian12', '--tag', tagAgain, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.image.id).toBe(imageId);
    expect(JSON.parse((await run('docker', ['image', 'inspect', tagAgain])).stdout)[0].Id).toBe(imageId);
  });

  it('--oci and --docker-archive need no Docker engine, are byte-identical when written twice, and load as the same image', async () => {
    const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const files = { oci: path.join(work, 'p-oci.tar'), oci2: path.join(work, 'p-oci-2.tar'), da: path.join(work, 'p-da.tar') };
    const a = await runYumda(['image', '--layer', zip, '--oci', files.oci, '--docker-archive', files.da, '--tag', ociTag, '--json'], { env: noEngine });
    expect(a.stderr).toMatch(/^(\[.*\n| {2}.*\n)*$/); // progress lines only
    expect(a.code).toBe(0);
    const b = await runYumda(['image', '--layer', zip, '--oci', files.oci2, '--tag', ociTag, '--json'], { env: noEngine });
    expect(b.code).toBe(0);
    expect(readFileSync(files.oci).equals(readFileSync(files.oci2))).toBe(true);
    const ja = JSON.parse(a.stdout);
    expect(ja.image.id).toBe(imageId);
    expect(JSON.parse(b.stdout).image.manifestDigest).toBe(ja.image.manifestDigest);
    // skopeo reads the OCI layout: the manifest digest yumda reported, and the labels
    const sk = await run('skopeo', ['inspect', `oci-archive:${files.oci}`]);
    expect(JSON.parse(sk.stdout)).toMatchObject({ Digest: ja.image.manifestDigest, Labels: { 'org.yumda.target': 'debian12' } });
    for (const f of [files.oci, files.da]) {
      const l = await run('docker', ['load', '-q', '-i', f]);
      expect(l.code, l.stderr).toBe(0);
      expect(l.stdout.trim()).toBe(`Loaded image: ${ociTag}`);
      expect(JSON.parse((await run('docker', ['image', 'inspect', ociTag])).stdout)[0].Id).toBe(imageId);
      await run('docker', ['rmi', ociTag]);
    }
  });

  it('inspect reads the image tarball as it reads the zip', async () => {
    const fromTar = JSON.parse((await runYumda(['inspect', path.join(work, 'p-oci.tar'), '--json'])).stdout);
    const fromZip = JSON.parse((await runYumda(['inspect', zip, '--json'])).stdout);
    expect(fromTar.format).toBe('oci');
    expect(fromTar.unzippedBytes).toBe(fromZip.unzippedBytes);
    expect(fromTar.bySource).toEqual(fromZip.bySource);
    const d = await runYumda(['diff', zip, path.join(work, 'p-oci.tar'), '--exit-code']);
    expect(d.stdout).toContain('no differences in packages or files');
    expect(d.code).toBe(0);
  });
});
