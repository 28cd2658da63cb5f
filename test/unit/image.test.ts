import { checkImageReference } from '../../src/docker/reference.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { imageLabels, splitTag, writeImage, type ImageSpec } from '../../src/emit/image.js';
import { openLayer } from '../../src/layer/open.js';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { parseArch } from '../../src/registry/arch.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { run } from '../helpers/cli.js';
import { gated } from '../helpers/gated.js';
import { tempDir } from '../helpers/tmp.js';
import { manifestOf } from '../helpers/layer.js';

const manifest: LayerManifest = manifestOf({
  packages: [
    { name: 'tool', version: '1.0-1', arch: 'amd64', requiredBy: [], files: 2, bytes: 9 },
    { name: 'libx1', version: '2.0-3', arch: 'amd64', requiredBy: ['tool'], files: 2, bytes: 5000 },
  ],
});

const layer = () =>
  treeOf([
    dir('/opt/bin'),
    file('/opt/bin/tool', '#!/bin/sh\n', 0o755, 'tool'),
    symlink('/opt/bin/t', 'tool', 'tool'),
    dir('/opt/lib'),
    file('/opt/lib/libx.so.1', Buffer.alloc(5000, 7), 0o644, 'libx1'),
    symlink('/opt/lib/libx.so', 'libx.so.1', 'libx1'),
  ]);

const spec: ImageSpec = { arch: parseArch('x86_64'), labels: imageLabels(manifest), tag: 'deps/tool:debian12' };

async function members(tarball: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      out.set(e.header.name, Buffer.concat(chunks));
    }
  })();
  ex.end(tarball);
  await done;
  return out;
}

async function layerNames(layerTar: Buffer): Promise<Array<[string, string, number]>> {
  const out: Array<[string, string, number]> = [];
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      out.push([e.header.name, e.header.type ?? '', e.header.mtime!.getTime()]);
      e.resume();
    }
  })();
  ex.end(layerTar);
  await done;
  return out;
}

describe('image tarballs', () => {
  it('OCI layout: index → manifest → config with labels and diff_id, gzip layer holding only /opt with fixed times', async () => {
    const d = tempDir();
    const r = await writeImage(gated(layer()), spec, 'oci', path.join(d, 'i.tar'), '0.1.0');
    const m = await members(readFileSync(path.join(d, 'i.tar')));
    expect(JSON.parse(m.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(m.get('index.json')!.toString());
    expect(index.manifests[0]).toMatchObject({ digest: r.manifestDigest, annotations: { 'org.opencontainers.image.ref.name': 'debian12' } });
    const man = JSON.parse(m.get(`blobs/sha256/${r.manifestDigest.slice(7)}`)!.toString());
    expect(man.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    const config = JSON.parse(m.get(`blobs/sha256/${man.config.digest.slice(7)}`)!.toString());
    expect(config).toMatchObject({ architecture: 'amd64', os: 'linux', created: '1980-01-01T00:00:00Z' });
    expect(config.config.Labels).toMatchObject({ 'org.yumda.target': 'debian12', 'org.yumda.arch': 'x86_64', 'org.yumda.packages': 'tool=1.0-1,libx1=2.0-3' });
    const blob = m.get(`blobs/sha256/${man.layers[0].digest.slice(7)}`)!;
    expect(`sha256:${createHash('sha256').update(blob).digest('hex')}`).toBe(man.layers[0].digest);
    // gzip header: no time stamp, no file name
    expect(blob.readUInt32LE(4)).toBe(0);
    expect(blob[3]! & 0x08).toBe(0);
    const plain = gunzipSync(blob);
    expect(config.rootfs.diff_ids).toEqual([`sha256:${createHash('sha256').update(plain).digest('hex')}`]);
    const names = await layerNames(plain);
    expect(names.map(([n, t]) => `${n} ${t}`)).toEqual([
      'opt/ directory',
      'opt/bin/ directory',
      'opt/bin/t symlink',
      'opt/bin/tool file',
      'opt/lib/ directory',
      'opt/lib/libx.so symlink',
      'opt/lib/libx.so.1 file',
    ]);
    for (const [, , mtime] of names) expect(mtime).toBe(Date.UTC(1980, 0, 1));
    // docker load reads the same file through manifest.json
    expect(JSON.parse(m.get('manifest.json')!.toString())).toEqual([
      { Config: `blobs/sha256/${r.imageId.slice(7)}`, RepoTags: ['deps/tool:debian12'], Layers: [`blobs/sha256/${man.layers[0].digest.slice(7)}`] },
    ]);
  });

  it('same layer, same bytes and digests; the tag is not part of the image ID', async () => {
    const d = tempDir();
    const a = await writeImage(gated(layer()), spec, 'oci', path.join(d, 'a.tar'), '0.1.0');
    await new Promise((r) => setTimeout(r, 1100));
    const b = await writeImage(gated(layer()), spec, 'oci', path.join(d, 'b.tar'), '0.1.0');
    expect(readFileSync(path.join(d, 'a.tar')).equals(readFileSync(path.join(d, 'b.tar')))).toBe(true);
    expect(b.manifestDigest).toBe(a.manifestDigest);
    const c = await writeImage(gated(layer()), { ...spec, tag: 'other/name:x' }, 'docker-archive', path.join(d, 'c.tar'), '0.1.0');
    expect(c.imageId).toBe(a.imageId);
    const changed = layer();
    changed.set('/opt/bin/tool', file('/opt/bin/tool', '#!/bin/sh\n# changed\n', 0o755, 'tool'));
    expect((await writeImage(gated(changed), spec, 'docker-archive', path.join(d, 'e.tar'), '0.1.0')).imageId).not.toBe(a.imageId);
  });

  it('docker-archive: the classic docker save layout with repositories', async () => {
    const d = tempDir();
    const r = await writeImage(gated(layer()), spec, 'docker-archive', path.join(d, 'i.tar'), '0.1.0');
    const m = await members(readFileSync(path.join(d, 'i.tar')));
    const layerId = r.layer.diffId.slice(7);
    expect([...m.keys()]).toEqual([`${r.imageId.slice(7)}.json`, `${layerId}/`, `${layerId}/VERSION`, `${layerId}/json`, `${layerId}/layer.tar`, 'manifest.json', 'repositories']);
    expect(JSON.parse(m.get('repositories')!.toString())).toEqual({ 'deps/tool': { debian12: layerId } });
    expect(
      `sha256:${createHash('sha256')
        .update(m.get(`${layerId}/layer.tar`)!)
        .digest('hex')}`,
    ).toBe(r.layer.diffId);
  });

  it('reads back as the same layer (entries, modes, links, contents) from either format', async () => {
    const d = tempDir();
    for (const f of ['oci', 'docker-archive'] as const) {
      await writeImage(gated(layer()), spec, f, path.join(d, `${f}.tar`), '0.1.0');
      const back = await openLayer(path.join(d, `${f}.tar`));
      expect(back.format).toBe(f);
      expect(back.entries.map((e) => [e.path, e.kind, e.mode, e.size, e.target])).toEqual([
        ['/opt/bin', 'dir', 0o755, 0, undefined],
        ['/opt/bin/t', 'symlink', 0o777, 0, 'tool'],
        ['/opt/bin/tool', 'file', 0o755, 10, undefined],
        ['/opt/lib', 'dir', 0o755, 0, undefined],
        ['/opt/lib/libx.so', 'symlink', 0o777, 0, 'libx.so.1'],
        ['/opt/lib/libx.so.1', 'file', 0o644, 5000, undefined],
      ]);
      expect(back.image?.config.config?.Labels?.['org.yumda.target']).toBe('debian12');
    }
  });

  it('skopeo reads both tarballs: digest, labels, architecture', async () => {
    const d = tempDir();
    const r = await writeImage(gated(layer()), spec, 'oci', path.join(d, 'oci.tar'), '0.1.0');
    await writeImage(gated(layer()), spec, 'docker-archive', path.join(d, 'da.tar'), '0.1.0');
    const oci = await run('skopeo', ['inspect', `oci-archive:${path.join(d, 'oci.tar')}`]);
    expect(oci.stderr).toBe('');
    expect(JSON.parse(oci.stdout)).toMatchObject({ Digest: r.manifestDigest, Architecture: 'amd64', Os: 'linux', Labels: { 'org.yumda.target': 'debian12' } });
    const da = await run('skopeo', ['inspect', `docker-archive:${path.join(d, 'da.tar')}`]);
    expect(JSON.parse(da.stdout)).toMatchObject({ Architecture: 'amd64', Labels: { 'org.yumda.requested': 'tool' } });
  });

  it('splits references into repository and tag', () => {
    expect(splitTag('deps/poppler:al2023')).toEqual({ repository: 'deps/poppler', tag: 'al2023' });
    expect(splitTag('localhost:5000/poppler')).toEqual({ repository: 'localhost:5000/poppler', tag: 'latest' });
  });
});

describe('image references', () => {
  const accepts = (f: () => unknown): boolean => {
    try {
      f();
      return true;
    } catch {
      return false;
    }
  };
  it.each([
    ['localhost:5000/a/b:tag', true, true],
    [`registry.example.com/x@sha256:${'a'.repeat(64)}`, true, true],
    [`registry.example.com/x@sha512:${'a'.repeat(128)}`, true, true],
    ['[::1]:5000/x', true, true],
    ['a'.repeat(64), true, false],
    [`sha256:${'b'.repeat(64)}`, true, false],
    ['UPPER CASE;x', false, false],
    ['ubuntu:-1', false, false],
  ])('%s: as --build-image %s, as --tag %s', (ref, asReference, asTag) => {
    expect(accepts(() => checkImageReference(ref, '--build-image'))).toBe(asReference);
    expect(accepts(() => checkImageReference(ref, '--tag', { tag: true }))).toBe(asTag);
  });
});
