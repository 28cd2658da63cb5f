import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import type { Runtime } from '../../src/registry/types.js';
import { logBuildPhases } from '../helpers/build-phases.js';
import { run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { rpmStandin, type RpmStandin } from '../helpers/rpm-standin.js';
import { buildRpm, makeRepo } from '../helpers/rpmrepo.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 20 §2: what maintainer scripts and triggers generate at installation reaches the layer.
 * Real packages, run Lambda-like: Java's trust store (ca-certificates-java), TeX's formats and
 * filename databases (fmtutil, mktexlsr, under /var/lib/texmf), and an rpm stand-in whose %post,
 * %posttrans and file trigger generate files. `--no-scripts` gives the layer as before, which
 * fails the same commands.
 */

interface InstallJson {
  scripts: {
    ran: boolean;
    reused: boolean;
    generated: Array<{ path: string; layerPath: string | null; bytes: number; package?: string }>;
    leftOut: Array<{ why: string; files: number }>;
    normalised: Array<{ path: string; what: string }>;
    failed: Array<{ pkg: string; why: string }>;
    keptState: string[];
  };
  warnings: string[];
}

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

async function unzip(zip: string, dir: string): Promise<string> {
  const r = await run('unzip', ['-q', zip, '-d', dir]);
  if (r.code !== 0) throw new Error(`unzip ${zip}: ${r.stderr}`);
  chmodSync(dir, 0o755);
  return dir;
}

async function install(args: string[]): Promise<InstallJson> {
  const r = await runYumda(['install', ...args, '--json']);
  if (r.code !== 0) throw new Error(`yumda install ${args.join(' ')} failed: ${r.stderr.split('\n').slice(-4).join('\n')}`);
  logBuildPhases(`install ${args.join(' ')}`, JSON.parse(r.stdout));
  const json = JSON.parse(r.stdout) as InstallJson;
  return json;
}

describe('debian12: what maintainer scripts generate, Lambda-like', () => {
  const work = tempDir('yumda-generated-');
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
  });

  describe("Java's trust store: openjdk-17-jre-headless ca-certificates-java", () => {
    const pkgs = ['openjdk-17-jre-headless', 'ca-certificates-java', '--target', 'debian12'];
    const zip = path.join(work, 'java.zip');
    const again = path.join(work, 'java-again.zip');
    const bare = path.join(work, 'java-no-scripts.zip');
    let json: InstallJson;
    let rerun: InstallJson;
    let layer: string;

    beforeAll(async () => {
      json = await install([...pkgs, '--out', zip]);
      // the scripts again in a fresh scratch root (packages from the cache): the same bytes; the
      // finished build goes too (it lives with the zips), or the rebuild would reuse it whole
      const clean = await runYumda(['cache', 'clean', '--only', 'scripts', '--only', 'zips']);
      expect(clean.code).toBe(0);
      rerun = await install([...pkgs, '--out', again]);
      await install([...pkgs, '--out', bare, '--no-scripts']);
      layer = await unzip(zip, path.join(work, 'java'));
    });

    it('keytool reads the trust store the scripts generated: more than 100 certificates', async () => {
      const r = await runLambdaLike(
        image,
        layer,
        'keytool -list -cacerts -storepass changeit 2>&1; echo ===; keytool -list -cacerts -storepass changeit | grep -c trustedCertEntry',
      );
      expect(r.code).toBe(0);
      const [listing, count] = r.stdout.split('===\n');
      expect(listing).toMatch(/Keystore type: JKS/);
      expect(Number(count!.trim())).toBeGreaterThan(100);
    });

    it('without the scripts (--no-scripts, as before) there is no trust store', async () => {
      const r = await runLambdaLike(image, await unzip(bare, path.join(work, 'java-bare')), 'keytool -list -cacerts -storepass changeit 2>&1');
      expect(r.code).not.toBe(0);
      expect(r.stdout).toMatch(/cacerts|No such file/i);
    });

    it('reports what the scripts generated, where it went and what it left out; the layer manifest lists it', () => {
      expect(json.scripts.ran).toBe(true);
      const cacerts = json.scripts.generated.find((g) => g.path === '/etc/ssl/certs/java/cacerts');
      expect(cacerts).toMatchObject({ layerPath: '/opt/etc/ssl/certs/java/cacerts', package: 'ca-certificates-java' });
      expect(cacerts!.bytes).toBeGreaterThan(100_000);
      expect(json.scripts.normalised).toEqual([{ path: '/etc/ssl/certs/java/cacerts', what: 'Java KeyStore (entry dates and order)' }]);
      expect(json.scripts.leftOut.map((l) => l.why)).toEqual(expect.arrayContaining(['package manager state', 'logs']));
      expect(json.scripts.failed).toEqual([]);
      const manifest = JSON.parse(readFileSync(path.join(layer, '.yumda/manifest.json'), 'utf8')) as { generatedByScripts: Array<{ file: string; package?: string }> };
      expect(manifest.generatedByScripts).toContainEqual(expect.objectContaining({ file: '/opt/etc/ssl/certs/java/cacerts', package: 'ca-certificates-java' }));
      // nothing of the package manager's state or logs
      expect(manifest.generatedByScripts.filter((g) => /dpkg|\/var\/log|\.log$|ld\.so\.cache|passwd/.test(g.file))).toEqual([]);
    });

    it('is reproducible: the scripts run again in a fresh scratch root give the same zip', () => {
      expect(rerun.scripts.reused).toBe(false);
      expect(sha(again)).toBe(sha(zip));
    });
  });

  describe("TeX's formats and filename databases: texlive-luatex", () => {
    const pkgs = ['texlive-luatex', '--target', 'debian12'];
    const zip = path.join(work, 'luatex.zip');
    const bare = path.join(work, 'luatex-no-scripts.zip');
    const inputs = path.join(work, 'luatex-in');
    let json: InstallJson;
    let layer: string;

    beforeAll(async () => {
      json = await install([...pkgs, '--out', zip]);
      await install([...pkgs, '--out', bare, '--no-scripts']);
      layer = await unzip(zip, path.join(work, 'luatex'));
      await run('mkdir', ['-p', inputs]);
      writeFileSync(path.join(inputs, 'page.tex'), 'Hello from a Lambda layer.\n\\bye\n');
      chmodSync(inputs, 0o755);
    });

    // texlive-luatex has no LaTeX (lualatex is texlive-latex-base's): its engine with its own format
    const compile = 'cd /tmp && HOME=/tmp luatex -interaction=nonstopmode /work/page.tex 2>&1; echo "exit=$?"; head -c 5 /tmp/page.pdf; echo';

    it('luatex compiles a one-page document to PDF (HOME=/tmp)', async () => {
      const r = await runLambdaLike(image, layer, compile, { work: inputs });
      expect(r.stdout).toMatch(/Output written on page\.pdf \(1 page/);
      expect(r.stdout).toMatch(/exit=0\n%PDF-/);
    });

    it("kpsewhich names TEXMFROOT under /opt, and finds the format where the layer ships the formats' directory", async () => {
      const r = await runLambdaLike(image, layer, 'kpsewhich -var-value=TEXMFROOT; kpsewhich -var-value=TEXMFSYSVAR; kpsewhich -engine=luatex luatex.fmt');
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(['/opt/share/texlive', '/opt/var/lib/texmf', '/opt/var/lib/texmf/web2c/luatex/luatex.fmt']);
    });

    it('ships /var/lib/texmf read-only under /opt, without the logs fmtutil left beside the formats', () => {
      expect(json.scripts.keptState).toEqual(expect.arrayContaining(['/var/lib/texmf']));
      const shipped = json.scripts.generated.filter((g) => g.layerPath).map((g) => g.layerPath);
      expect(shipped).toEqual(expect.arrayContaining(['/opt/var/lib/texmf/web2c/luatex/luatex.fmt', '/opt/var/lib/texmf/ls-R-TEXLIVEDIST']));
      expect(shipped.filter((p) => p!.endsWith('.log'))).toEqual([]);
      expect(json.scripts.leftOut.map((l) => l.why)).toContain('logs');
    });

    it('without the scripts (--no-scripts, as before) luatex finds no format', async () => {
      const r = await runLambdaLike(image, await unzip(bare, path.join(work, 'luatex-bare')), compile, { work: inputs });
      expect(r.stdout).toMatch(/I can't find the format file `luatex\.fmt'/);
    });
  });

  describe("gdk-pixbuf's loader cache and the MIME database: libgdk-pixbuf2.0-bin librsvg2-common", () => {
    const pkgs = ['libgdk-pixbuf2.0-bin', 'librsvg2-common', '--target', 'debian12'];
    const inputs = path.join(work, 'pixbuf-in');
    let json: InstallJson;
    let layer: string;
    let bare: string;

    beforeAll(async () => {
      layer = path.join(work, 'pixbuf');
      bare = path.join(work, 'pixbuf-no-scripts');
      json = await install([...pkgs, '--out-dir', layer]);
      await install([...pkgs, '--out-dir', bare, '--no-scripts']);
      for (const d of [layer, bare]) chmodSync(d, 0o755);
      await run('mkdir', ['-p', inputs]);
      writeFileSync(path.join(inputs, 'red.svg'), '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30" fill="red"/></svg>\n');
      chmodSync(inputs, 0o755);
    });

    // the SVG loader is found through loaders.cache (a trigger's, its paths rewritten to /opt), the
    // file's type through the MIME database (another trigger's) that XDG_DATA_DIRS leads GLib to
    const dump = 'gdk-pixbuf-csource --raw /work/red.svg 2>&1 | head -c 200';

    it('gdk-pixbuf-csource reads an SVG through the SVG loader', async () => {
      const r = await runLambdaLike(image, layer, dump, { work: inputs });
      expect(r.stdout).toMatch(/GdkPixbuf RGBA C-Source image dump/);
      const cache = readFileSync(path.join(layer, 'lib/gdk-pixbuf-2.0/2.10.0/loaders.cache'), 'utf8');
      expect(cache).toMatch(/^"\/opt\/lib\/gdk-pixbuf-2\.0\/2\.10\.0\/loaders\/libpixbufloader-svg\.so"$/m);
      expect(cache).not.toMatch(/\/usr\//);
      expect(json.scripts.generated.map((g) => g.layerPath)).toEqual(expect.arrayContaining(['/opt/lib/gdk-pixbuf-2.0/2.10.0/loaders.cache', '/opt/share/mime/mime.cache']));
    });

    it('without the scripts (--no-scripts, as before) the format is not recognised', async () => {
      const r = await runLambdaLike(image, bare, dump, { work: inputs });
      expect(r.stdout).toMatch(/Couldn.t recognize the image file format/);
    });
  });

  describe('lualatex: texlive-luatex with texlive-latex-base (over 250 MB with the LaTeX formats: --force, as for a container image)', () => {
    const inputs = path.join(work, 'latex-in');
    let layer: string;

    beforeAll(async () => {
      layer = path.join(work, 'lualatex');
      await install(['texlive-luatex', 'texlive-latex-base', '--target', 'debian12', '--out-dir', layer, '--force']);
      chmodSync(layer, 0o755);
      await run('mkdir', ['-p', inputs]);
      writeFileSync(path.join(inputs, 'page.tex'), '\\documentclass{article}\n\\begin{document}\nHello from a Lambda layer.\n\\end{document}\n');
      chmodSync(inputs, 0o755);
    });

    it('lualatex compiles a one-page document to PDF (HOME=/tmp)', async () => {
      const r = await runLambdaLike(image, layer, 'cd /tmp && HOME=/tmp lualatex -interaction=nonstopmode /work/page.tex 2>&1; echo "exit=$?"; head -c 5 /tmp/page.pdf; echo', {
        work: inputs,
      });
      expect(r.stdout).toMatch(/Output written on page\.pdf \(1 page/);
      expect(r.stdout).toMatch(/exit=0\n%PDF-/);
    });
  });
});

/**
 * The rpm path with the dnf stand-in: a package whose %post writes an index of absolute paths (as
 * a loader cache does) and read-only state under /var/lib, whose %posttrans and transaction file
 * trigger write files too, and a script that reads them all.
 */
describe('rpm (dnf stand-in): what %post, %posttrans and a file trigger generate', () => {
  const work = tempDir('yumda-generated-rpm-');
  let standin: RpmStandin;
  let manifestFile: string;

  const show = [
    '#!/bin/sh',
    'echo "index: $(cat /usr/share/scripted/index | tr "\\n" " ")"',
    'for f in $(cat /usr/share/scripted/index); do echo "item: $(cat "$f")"; done',
    'echo "state: $(cat /var/lib/scripted/state.db)"',
    'echo "posttrans: $(cat /usr/share/scripted/posttrans.txt)"',
    'echo "trigger: $(cat /usr/share/scripted/triggered.txt)"',
    '',
  ].join('\n');

  beforeAll(async () => {
    standin = await rpmStandin(path.join(work, 'standin'));
    // scriptlets need /bin/sh: a package of the runtime provides it
    const sh = await buildRpm(path.join(work, 'rpms'), { name: 'bash', version: '5.2', files: {}, provides: ['/bin/sh'] });
    const scripted = await buildRpm(path.join(work, 'rpms'), {
      name: 'scripted',
      version: '1.0',
      arch: 'noarch',
      files: {
        '/usr/bin/scripted-show': { data: show, mode: 0o755 },
        '/usr/share/scripted/items/a.txt': { data: 'item a\n' },
        '/usr/share/scripted/items/b.txt': { data: 'item b\n' },
      },
      scriptlets: {
        post: 'ls /usr/share/scripted/items | sed "s|^|/usr/share/scripted/items/|" > /usr/share/scripted/index\nmkdir -p /var/lib/scripted\necho "made by %%post" > /var/lib/scripted/state.db\necho "a log" > /var/lib/scripted/post.log',
        posttrans: 'echo "made by %%posttrans" > /usr/share/scripted/posttrans.txt',
        'transfiletriggerin -- /usr/share/scripted/items': 'wc -l | tr -d " " > /usr/share/scripted/triggered.txt',
      },
    });
    await makeRepo(standin.repo.dir, [sh, scripted]);
    const runtime = JSON.parse(readFileSync(standin.runtimeManifest, 'utf8')) as Runtime;
    runtime.packages.push({ name: 'bash', version: '5.2-1', arch: 'x86_64', provides: ['/bin/sh', 'bash = 5.2-1', 'bash(x86-64) = 5.2-1'] });
    manifestFile = path.join(work, 'runtime-with-sh.json');
    writeFileSync(manifestFile, JSON.stringify(runtime, null, 2));
    chmodSync(work, 0o755);
  });

  afterAll(async () => {
    await standin?.server.close();
  });

  const install = (extra: string[]) =>
    runYumda([
      'install',
      'scripted',
      '--target',
      'al2023',
      '--build-image',
      standin.buildImage,
      '--no-default-repos',
      '--repo',
      standin.server.url,
      '--runtime-manifest',
      manifestFile,
      '--refresh',
      ...extra,
    ]);

  it('ships the files the scriptlets generated, relocated, and the script reads them Lambda-like', async () => {
    const zip = path.join(work, 'scripted.zip');
    const r = await install(['--out', zip, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as InstallJson;
    expect(json.scripts.failed).toEqual([]);
    expect(
      json.scripts.generated
        .filter((g) => g.layerPath)
        .map((g) => [g.path, g.layerPath])
        .sort(),
    ).toEqual([
      ['/usr/share/scripted/index', '/opt/share/scripted/index'],
      ['/usr/share/scripted/posttrans.txt', '/opt/share/scripted/posttrans.txt'],
      ['/usr/share/scripted/triggered.txt', '/opt/share/scripted/triggered.txt'],
      ['/var/lib/scripted/state.db', '/opt/var/lib/scripted/state.db'],
    ]);
    expect(json.scripts.keptState).toEqual(['/var/lib/scripted']);
    expect(json.scripts.leftOut.map((l) => l.why)).toContain('logs');
    const layer = await unzip(zip, path.join(work, 'scripted'));
    const out = await runLambdaLike(standin.runtimeImage, layer, 'scripted-show');
    expect(out.stderr).toBe('');
    expect(out.stdout.trim().split('\n')).toEqual([
      // the index recorded absolute paths: rewritten for /opt like every text file
      'index: /opt/share/scripted/items/a.txt /opt/share/scripted/items/b.txt ',
      'item: item a',
      'item: item b',
      'state: made by %post',
      'posttrans: made by %posttrans',
      'trigger: 2',
    ]);
  });

  it('--no-scripts ships none of it', async () => {
    const zip = path.join(work, 'scripted-bare.zip');
    const r = await install(['--out', zip, '--no-scripts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout) as InstallJson;
    expect(json.scripts.ran).toBe(false);
    expect(json.scripts.generated).toEqual([]);
    const layer = await unzip(zip, path.join(work, 'scripted-bare'));
    const out = await runLambdaLike(standin.runtimeImage, layer, 'scripted-show');
    expect(out.stderr).toMatch(/No such file/);
  });
});
