import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { looksLikeRenderedText } from '../helpers/png.js';
import { run, runYumda } from '../helpers/cli.js';
import { logBuildPhases } from '../helpers/build-phases.js';
import { tempDir } from '../helpers/tmp.js';
import { ensureRuntimeImage, runLambdaLike, type LambdaRun } from '../helpers/lambda.js';
import { TOOL_CHECKS, writeToolInputs, type Tool } from '../helpers/tool-checks.js';
import { rpmStandin, type RpmStandin } from '../helpers/rpm-standin.js';

/**
 * Issue 13: arm64 layers proven by running them. Built with `--arch arm64` on this x86_64 engine,
 * run Lambda-like in the arm64 debian12 runtime (built from debian:12-slim-arm64) under qemu-user
 * emulation, which CI registers (.ci/binfmt-arm64).
 *
 * What runs here was chosen by measuring it (2 shared cores): resolving and unpacking stay
 * native, but the maintainer scripts and graphviz's recipe step run emulated in the arm64 build
 * image, so a build takes 80-170 s; each emulated Lambda-like run takes 1-4 s. Poppler gets its
 * own layer (verify and --pack use it); the tools of issue 4 share one, and every one of them
 * runs, both ways.
 */
const ARM64 = 'linux/arm64';
const ARM64_TOOLS: Tool[] = ['graphviz', 'ghostscript', 'imagemagick', 'git', 'tesseract-ocr'];

/** Emulation is slow: each step's time is printed, to choose what CI runs. */
async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t = Date.now();
  try {
    return await fn();
  } finally {
    console.log(`arm64: ${what} took ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }
}

describe('arm64 layers run under emulation (debian12)', () => {
  const work = tempDir('yumda-arm64-');
  const inputs = path.join(work, 'in');
  const popplerZip = path.join(work, 'poppler.zip');
  const popplerDir = path.join(work, 'poppler');
  const layers = new Map<string, string>();
  const installs = new Map<string, { warnings: string[]; arch: string }>();
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    writeToolInputs(inputs);
    const runtime = loadRuntime('debian12');
    image = await timed('the arm64 runtime image', () => ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context, 'arm64'));
    const p = await timed('install poppler-utils', () => runYumda(['install', 'poppler-utils', '--target', 'debian12', '--arch', 'arm64', '--out', popplerZip, '--json']));
    if (p.code !== 0) throw new Error(`yumda install poppler-utils --arch arm64 failed: ${p.stderr.split('\n').slice(-3).join('\n')}`);
    installs.set('poppler-utils', JSON.parse(p.stdout));
    logBuildPhases('install poppler-utils --arch arm64', JSON.parse(p.stdout));
    expect((await run('unzip', ['-q', popplerZip, '-d', popplerDir])).code).toBe(0);
    chmodSync(popplerDir, 0o755);
    // The five tools in one build, without their maintainer scripts: five builds, each running
    // its scripts emulated, took 576 s of a CI run (80-140 s each since issue 20 added the scripts),
    // and one build of all five with scripts still 414 s. What is arm64's own is the same this way:
    // aarch64 ELF files, the aarch64 loader's name, graphviz's recipe step run emulated. The
    // scripts run emulated for poppler-utils above (and self-contained.test.ts's arm64 build);
    // each tool's own closure, with its scripts, is checked by the x86_64 tests. Together they are
    // 273 MiB, over a zip's limit: --force writes the directory anyway, for the runs below.
    const dir = path.join(work, 'tools');
    const r = await timed(`install ${ARM64_TOOLS.join(' ')}`, () =>
      runYumda(['install', ...ARM64_TOOLS, '--target', 'debian12', '--arch', 'arm64', '--no-scripts', '--force', '--out-dir', dir, '--json']),
    );
    if (r.code !== 0) throw new Error(`yumda install ${ARM64_TOOLS.join(' ')} --arch arm64 failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
    chmodSync(dir, 0o755);
    logBuildPhases(`install ${ARM64_TOOLS.join(' ')} --arch arm64`, JSON.parse(r.stdout));
    for (const tool of ARM64_TOOLS) {
      layers.set(tool, dir);
      installs.set(tool, JSON.parse(r.stdout));
    }
  }, 1_800_000); // on a fresh machine graphviz's build also builds the arm64 build image under emulation (about 5 min)

  const lambdaLike = (dir: string, script: string, ldLibraryPath?: null, tmpMb?: number): Promise<LambdaRun> =>
    timed(`run ${script.slice(0, 40)}`, () =>
      runLambdaLike(image, dir, script, { work: inputs, platform: ARM64, ...(ldLibraryPath === null ? { ldLibraryPath } : {}), ...(tmpMb ? { tmpMb } : {}) }),
    );

  it('the runtime image is arm64 and runs under emulation', async () => {
    const r = await lambdaLike(popplerDir, 'uname -m; od -An -tx1 -j18 -N2 $(ls /opt/lib/libpoppler.so.* | head -1)');
    expect(r.stderr).toBe('');
    const [machine, elfMachine] = r.stdout.trim().split('\n');
    expect(machine).toBe('aarch64');
    // e_machine 183 (0xb7, little-endian): EM_AARCH64
    expect(elfMachine?.trim()).toBe('b7 00');
  });

  it.each([
    ["Lambda's LD_LIBRARY_PATH", undefined],
    ['LD_LIBRARY_PATH unset', null],
  ] as const)('poppler-utils: pdftoppm renders Helvetica text and pdftotext extracts it (%s)', async (_, ld) => {
    const r = await lambdaLike(
      popplerDir,
      'set -e; pdftoppm -png -r 72 /work/hello.pdf /tmp/page; echo ===TEXT===; pdftotext /work/hello.pdf -; echo ===PNG===; base64 /tmp/page-1.png',
      ld,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [, text, png] = /===TEXT===\n([\s\S]*)===PNG===\n([\s\S]*)$/.exec(r.stdout)!;
    expect(text!.trim()).toBe('Hello Lambda Layer');
    expect(looksLikeRenderedText(png!)).toMatchObject({ ok: true });
  });

  it("graphviz's recipe step ran under emulation: no warning that the layer lacks its output formats", () => {
    expect(installs.get('graphviz')!.arch).toBe('arm64');
    expect(installs.get('graphviz')!.warnings.filter((w) => /recipe step/.test(w))).toEqual([]);
  });

  for (const c of TOOL_CHECKS.filter((t) => ARM64_TOOLS.includes(t.tool))) {
    const runWith = (tool: Tool, script: string) => lambdaLike(layers.get(tool)!, script);
    it(`${c.title} (Lambda's LD_LIBRARY_PATH)`, () => c.check({ run: (s) => lambdaLike(layers.get(c.tool)!, s), runWith, inputs }));
    it(`${c.title} (LD_LIBRARY_PATH unset)`, () => c.check({ run: (s) => lambdaLike(layers.get(c.tool)!, s, null), runWith, inputs }));
  }

  it('yumda verify runs the smoke test and --run of an arm64 layer, executed, not skipped', async () => {
    const r = await timed('yumda verify', () => runYumda(['verify', popplerZip, '--run', 'pdftoppm -v 2>&1 | head -1']));
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.find((l) => l.startsWith('PASS smoke poppler-utils:'))).toMatch(/\(yumda ok\)$/);
    expect(lines.find((l) => l.startsWith('PASS run:'))).toMatch(/^PASS run: pdftoppm -v 2>&1 \| head -1 {2}\(pdftoppm version \d+\.\d+/);
    expect(lines.filter((l) => l.startsWith('SKIP'))).toEqual([]);
    expect(lines.at(-1)).toMatch(/^verified: 4 passed, 0 failed \(Lambda-like in yumda\/runtime-debian12:[0-9a-f]{12}-arm64:/);
  });

  it('poppler-utils --pack: the layer ships aarch64 unpack tools, and the first call unpacks and renders under emulation', async () => {
    const packedDir = path.join(work, 'poppler-packed');
    const b = await timed('install poppler-utils --pack', () =>
      runYumda(['install', 'poppler-utils', '--target', 'debian12', '--arch', 'arm64', '--pack', '--out-dir', packedDir, '--json']),
    );
    expect(b.code, b.stderr).toBe(0);
    const packed = (JSON.parse(b.stdout) as { packed: { tmpMb: number; unpackDir: string } }).packed;
    chmodSync(packedDir, 0o755);
    // what unpacks on the bare runtime is shipped for the function's architecture
    const zstd = await run('readelf', ['-h', path.join(packedDir, '.yumda/bin/zstd')]);
    expect(zstd.stdout).toMatch(/Machine:\s+AArch64/);
    const script =
      'set -e; s=$(date +%s%N); pdftotext -nopgbrk /work/hello.pdf /tmp/text; m=$(date +%s%N); pdftoppm -png -r 72 /work/hello.pdf /tmp/page; e=$(date +%s%N); ' +
      'echo "$(cat /tmp/text)"; echo "ms $(( (m - s) / 1000000 )) $(( (e - m) / 1000000 ))"; uname -m; ls -d /tmp/yumda-pack-*; base64 /tmp/page-1.png';
    const r = await lambdaLike(packedDir, script, undefined, packed.tmpMb + 16);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [text, ms, machine, unpacked, ...png] = r.stdout.trim().split('\n');
    expect(text).toBe('Hello Lambda Layer');
    expect(machine).toBe('aarch64');
    expect(unpacked).toBe(packed.unpackDir);
    console.log(`arm64 packed poppler-utils: first call ${ms!.split(' ')[1]} ms (unpacks ${packed.tmpMb} MB), second ${ms!.split(' ')[2]} ms (emulated, this machine)`);
    expect(looksLikeRenderedText(png.join('\n'))).toMatchObject({ ok: true });
  });
});

/**
 * The rpm stand-in (amazonlinux.test.ts) for aarch64: its C programs and libraries cross-compiled
 * with aarch64-linux-gnu-gcc, packaged with `rpmbuild --target aarch64`, resolved by dnf in the
 * native stand-in build image with --arch arm64, run in the arm64 stand-in runtime under emulation.
 * It proves the in-place rewrites (compiled-in paths, the RPATH) on real aarch64 packages.
 */
describe('the rpm stand-in hello package built for aarch64', () => {
  const work = tempDir('yumda-arm64-rpm-');
  let standin: RpmStandin;
  let plan: { arch: string; packages: Array<{ name: string; arch: string }>; warnings: string[] };
  const layerDir = path.join(work, 'hello-opt');
  // a recipe step that runs hello's own aarch64 program at build time
  const recipes = path.join(work, 'recipes');

  beforeAll(async () => {
    standin = await timed('the aarch64 rpm stand-in (repository, runtime image and manifest)', () => rpmStandin(work, 'aarch64'));
    mkdirSync(recipes, { recursive: true });
    writeFileSync(
      path.join(recipes, 'hello-post.json'),
      JSON.stringify({
        name: 'hello-post',
        description: 'runs hello at build time',
        packages: { rpm: ['hello'] },
        postStage: [{ run: '"$ROOT/usr/bin/fixture-hello" > "$ROOT/usr/share/hello/ran.txt"', without: 'ran.txt (what hello prints)' }],
      }),
    );
    const zip = path.join(work, 'hello.zip');
    const r = await timed('install hello --arch arm64 (al2023 stand-in)', () =>
      runYumda([
        'install',
        'hello',
        '--target',
        'al2023',
        '--arch',
        'arm64',
        '--build-image',
        standin.buildImage,
        '--no-default-repos',
        '--repo',
        standin.server.url,
        '--runtime-manifest',
        standin.runtimeManifest,
        '--recipes',
        recipes,
        '--out',
        zip,
        '--json',
      ]),
    );
    expect(r.code, r.stderr).toBe(0);
    plan = JSON.parse(r.stdout);
    expect((await run('unzip', ['-q', zip, '-d', layerDir])).code).toBe(0);
    chmodSync(work, 0o755);
    chmodSync(layerDir, 0o755);
  });

  afterAll(async () => {
    await standin?.server.close();
  });

  it('resolves the aarch64 packages', () => {
    expect(plan.arch).toBe('arm64');
    expect(plan.packages.map((p) => `${p.name}.${p.arch}`).sort()).toEqual(['hello-data.noarch', 'hello.aarch64', 'libgreet.aarch64']);
  });

  it('a recipe step cannot run in a --build-image without an arm64 variant: the warning says what the layer lacks and which image to tag', () => {
    expect(plan.warnings).toContain(
      `the layer will lack hello-post: ran.txt (what hello prints): recipe step '"$ROOT/usr/bin/fixture-hello" > "$ROOT/usr/share/hello/ran.txt"' was skipped (it runs the packages' arm64 programs; the Docker engine is x86_64 and does not run arm64 programs: --build-image ${standin.buildImage} is x86_64; tag its arm64 variant as ${standin.buildImage}-arm64)`,
    );
  });

  it("runs Lambda-like on the arm64 runtime: finds its library, data file and config at their /opt places, and the runtime's base", async () => {
    const r = await runLambdaLike(standin.runtimeImage, layerDir, 'uname -m; fixture-hello', { platform: ARM64 });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('aarch64');
    expect(lines[1]).toBe('library: /opt/lib/libgreet.so.1 (hello from libgreet 1.1)');
    // the runtime's own copy, not shipped: Debian's arm64 root has no /lib64 (the stand-in's COPY
    // made /usr/lib64), so it is found at the next directory of Lambda's LD_LIBRARY_PATH
    expect(lines[2]).toBe('base: /usr/lib64/libbase.so.1 (base 1.0)');
    expect(lines.slice(3)).toEqual([
      'data: /opt/share/hello/greeting.txt (compiled-in path): greetings from hello-data 1:0.9',
      'config: /opt/hello.conf (compiled-in path): # hello configuration greeting_file=/opt/share/hello/greeting.txt',
    ]);
  });
});
