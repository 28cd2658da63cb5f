import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withContainer } from '../../src/docker/container.js';
import { connectEngine } from '../../src/docker/engine.js';
import { tarOf } from '../../src/tree/tar.js';
import { parseArch } from '../../src/registry/arch.js';
import { loadRuntime, loadTarget } from '../../src/registry/load.js';
import { STAGE_OUT, type ResolveContext } from '../../src/resolve/backend.js';
import type { Plan, PlannedPackage } from '../../src/resolve/plan.js';
import { rpmBackend, parseRpmRepo } from '../../src/backends/rpm/resolve.js';
import { extractTar, packageRoute } from '../../src/stage/extract.js';
import { ContentStore } from '../../src/cache/content-store.js';
import type { FileTree } from '../../src/tree/types.js';
import { readContent } from '../../src/tree/types.js';
import { repoRoot, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureTestImage } from '../helpers/images.js';
import { serveDirectory } from '../helpers/serve.js';

/**
 * The rpm path on real Amazon Linux 2023 data (../shared/fixtures/repos/al2023-thirdparty: a
 * createrepo_c repository built on AL2023, hashed metadata names, zstd-19 payloads): dnf reads the
 * metadata, downloads exact NEVRAs (one with epoch 1) and checks their checksums, rpm2cpio/cpio
 * unpack them. Resolution against it alone fails as it must: it lacks the distribution's glibc.
 */
const FIXTURE = path.resolve(repoRoot, '../shared/fixtures/repos/al2023-thirdparty');

const pkg = (name: string, version: string, arch: string): PlannedPackage => ({
  name,
  version,
  arch,
  downloadSize: 0,
  installedSize: 0,
  requiredBy: [name],
  requested: true,
  provides: [name],
  depends: [],
  repository: 'repo1',
});

describe('al2023 rpm path on a real AL2023 repository', () => {
  let buildImage: string;
  let server: Awaited<ReturnType<typeof serveDirectory>>;

  beforeAll(async () => {
    buildImage = await ensureTestImage('yumda-test/rpm-build-standin', path.join(repoRoot, 'test/images/rpm-build-standin'));
    server = await serveDirectory(FIXTURE);
  });
  afterAll(async () => server?.close());

  /** Unpacked trees by package name, as the build container leaves them. */
  async function stage(url: string, plan: Plan, log: (line: string) => void = () => undefined): Promise<Map<string, FileTree>> {
    const docker = await connectEngine();
    const ctx: ResolveContext = { target: loadTarget('al2023'), runtime: loadRuntime('provided.al2023'), arch: parseArch('x86_64'), repositories: [parseRpmRepo(url, 0)] };
    return withContainer(docker, { image: buildImage, network: 'host' }, async (c) => {
      await c.putArchive('/', await tarOf(rpmBackend.configFiles(ctx)));
      await rpmBackend.refresh(c, ctx, () => undefined, { maxAgeMinutes: 60, force: true });
      await rpmBackend.stage(c, ctx, plan.packages, log);
      const { trees } = await extractTar(await c.getArchive(STAGE_OUT), new ContentStore(path.join(tempDir(), 'content')), packageRoute('out'));
      return trees;
    });
  }

  it('downloads exact packages through the real metadata and unpacks their zstd payloads without scriptlets', async () => {
    const trees = await stage(server.url, {
      packages: [pkg('python2-wheel', '1:0.34.2-1.amzn2023.0.2', 'noarch'), pkg('python2.7', '2.7.18-41.amzn2023.0.9', 'x86_64')],
      fromRuntime: [],
      skew: [],
    });
    // dnf read the repository through its hashed metadata names
    expect(server.requests).toContain('/repodata/repomd.xml');
    expect(server.requests.some((r) => /^\/repodata\/[0-9a-f]{64}-primary\.(xml\.gz|sqlite\.bz2)$/.test(r))).toBe(true);
    expect(server.requests).toEqual(
      expect.arrayContaining(['/RPMS/noarch/python2-wheel-0.34.2-1.amzn2023.0.2.noarch.rpm', '/RPMS/x86_64/python2.7-2.7.18-41.amzn2023.0.9.x86_64.rpm']),
    );
    // one tree per package, as unpacked
    expect([...trees.keys()].sort()).toEqual(['python2-wheel', 'python2.7']);
    expect(trees.get('python2-wheel')!.has('/usr/bin/wheel-2.7')).toBe(true);
    const tree = trees.get('python2.7')!;
    expect(tree.has('/usr/bin/python2.7')).toBe(true);
    // the package carries debugger links under /usr/lib/.build-id: not unpacked
    expect([...tree.keys()].filter((p) => p.startsWith('/usr/lib/.build-id'))).toEqual([]);
    // real content: python2.7's interpreter is an x86-64 ELF, wheel's entry point a python2 script
    const python = tree.get('/usr/bin/python2.7');
    expect(python?.kind).toBe('file');
    const elf = readContent((python as { content: Parameters<typeof readContent>[0] }).content);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(18)).toBe(62);
    const wheel = trees.get('python2-wheel')!.get('/usr/bin/wheel-2.7');
    expect(
      readContent((wheel as { content: Parameters<typeof readContent>[0] }).content)
        .toString()
        .split('\n')[0],
    ).toMatch(/^#!\/usr\/bin\/python2/);
  });

  it("reports each package as dnf finishes it, not all when dnf returns: the second package's answer waits for the first one's line", async () => {
    const seen: string[] = [];
    let firstIn: () => void = () => undefined;
    const firstReported = new Promise<void>((resolve) => (firstIn = resolve));
    let rpms = 0;
    const held = await serveDirectory(FIXTURE, {
      // dnf fetches in parallel: whichever package is asked for second is answered only once a
      // `downloaded` line has arrived, or after 20 s (then the order below fails the test)
      hold: (rel) => {
        if (!rel.endsWith('.rpm') || rpms++ === 0) return undefined;
        return Promise.race([firstReported, new Promise<void>((resolve) => setTimeout(resolve, 20_000))]).then(() => void seen.push(`answered ${path.posix.basename(rel)}`));
      },
    });
    try {
      await stage(
        held.url,
        { packages: [pkg('python2-wheel', '1:0.34.2-1.amzn2023.0.2', 'noarch'), pkg('python2.7', '2.7.18-41.amzn2023.0.9', 'x86_64')], fromRuntime: [], skew: [] },
        (line) => {
          if (!line.startsWith('downloaded ')) return;
          seen.push(line);
          firstIn();
        },
      );
    } finally {
      await held.close();
    }
    // one line per package, the first before the second package was answered
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatch(/^downloaded python2(-wheel-0\.34\.2-1\.amzn2023\.0\.2\.noarch|\.7-2\.7\.18-41\.amzn2023\.0\.9\.x86_64)\.rpm$/);
    expect(seen[1]).toMatch(/^answered python2/);
    expect(seen[2]).toMatch(/^downloaded python2/);
    expect(seen[2]).not.toBe(seen[0]);
  });

  it('refuses a package whose bytes do not match the repository metadata', async () => {
    const copy = tempDir('yumda-al2023-tampered-');
    cpSync(FIXTURE, copy, { recursive: true });
    const rpm = path.join(copy, 'RPMS/noarch/python2-wheel-0.34.2-1.amzn2023.0.2.noarch.rpm');
    const data = readFileSync(rpm);
    data[data.length - 100] ^= 0xff;
    writeFileSync(rpm, data);
    const tampered = await serveDirectory(copy);
    try {
      await expect(stage(tampered.url, { packages: [pkg('python2-wheel', '1:0.34.2-1.amzn2023.0.2', 'noarch')], fromRuntime: [], skew: [] })).rejects.toThrow(
        /^downloading the packages failed: .*checksum doesn't match/,
      );
    } finally {
      await tampered.close();
    }
  });

  it('resolving against it alone fails in one line that says what is missing and why', async () => {
    const r = await runYumda([
      'install',
      'python2-setuptools',
      '--target',
      'al2023',
      '--build-image',
      buildImage,
      '--no-default-repos',
      '--repo',
      server.url,
      '--dry-run',
      '--quiet',
    ]);
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    // python2.7 needs the C library, which the real AL2023 repositories have and this one lacks
    expect(lines[0]).toMatch(
      /^yumda: error: the packages cannot be installed together: nothing provides (rtld\(GNU_HASH\)|libc\.so\.6\S*) needed by python2\.7-2\.7\.18-41\.amzn2023\.0\.9\.x86_64; \S+ comes from glibc, which the provided\.al2023 runtime has/,
    );
  });
});
