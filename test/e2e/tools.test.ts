import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { darkPixels } from '../helpers/png.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/cc.js';
import { ensureRuntimeImage, runLambdaLike, type LambdaRun } from '../helpers/lambda.js';

/**
 * Issue 4's acceptance: real packages relocated to /opt do real work in a Lambda-like debian12
 * container, with Lambda's LD_LIBRARY_PATH and without it.
 */
const TOOLS = ['ghostscript', 'imagemagick', 'git', 'tesseract-ocr', 'graphviz'] as const;

describe('real tools relocated to /opt (debian12)', () => {
  const work = tempDir('yumda-tools-');
  const inputs = path.join(work, 'in');
  const layers = new Map<string, string>();
  const results = new Map<string, { missingLibraries: unknown[]; elfChecked: number; unrewritable: unknown[] }>();
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    mkdirSync(inputs);
    chmodSync(inputs, 0o755);
    writeFileSync(path.join(inputs, 'hello.pdf'), helveticaPdf('Hello Lambda Layer'));
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    for (const tool of TOOLS) {
      const dir = path.join(work, tool);
      const r = await runYumda(['install', tool, '--target', 'debian12', '--out-dir', dir, '--json']);
      if (r.code !== 0) throw new Error(`yumda install ${tool} failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
      chmodSync(dir, 0o755);
      layers.set(tool, dir);
      results.set(tool, JSON.parse(r.stdout));
    }
  });

  const both = (name: string, fn: (run: (script: string) => Promise<LambdaRun>) => Promise<void>) => {
    it(`${name} (Lambda's LD_LIBRARY_PATH)`, () => fn((script) => runLambdaLike(image, layers.get(name.split(':')[0]!)!, script, { work: inputs })));
    it(`${name} (LD_LIBRARY_PATH unset)`, () => fn((script) => runLambdaLike(image, layers.get(name.split(':')[0]!)!, script, { work: inputs, ldLibraryPath: null })));
  };

  it('every layer passes the closure check: no soname missing from layer and runtime', () => {
    for (const tool of TOOLS) {
      const r = results.get(tool)!;
      expect(r.elfChecked, tool).toBeGreaterThan(5);
      expect(r.missingLibraries, tool).toEqual([]);
    }
  });

  both('ghostscript: renders a PDF page with text to PNG', async (run) => {
    const r = await run('set -e; gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=png16m -r72 -sOutputFile=/tmp/p.png /work/hello.pdf; base64 /tmp/p.png');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { dark, total } = darkPixels(Buffer.from(r.stdout, 'base64'));
    expect(dark).toBeGreaterThan(1500);
    expect(dark).toBeLessThan(total / 20);
  });

  both('imagemagick: resizes a PNG, converts it to JPEG and identifies the result', async (run) => {
    const r = await run(
      'set -e; convert -size 400x300 xc:white -fill black -draw "rectangle 50,50 350,250" /tmp/in.png; convert /tmp/in.png -resize 50% /tmp/out.jpg; identify /tmp/out.jpg; convert /tmp/out.jpg -format "%[fx:mean]" info:',
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\/tmp\/out\.jpg JPEG 200x150 200x150\+0\+0 8-bit/m);
    // a black rectangle over half the area: the mean intensity is about 0.5, not white (1) or black (0)
    const mean = Number(r.stdout.trim().split('\n').pop());
    expect(mean).toBeGreaterThan(0.4);
    expect(mean).toBeLessThan(0.7);
  });

  both('git: init, commit and clone a local repository', async (run) => {
    const r = await run(
      'set -e; cd /tmp; git init -q repo; cd repo; echo hello > file.txt; git add file.txt; ' +
        'git -c user.name=Lambda -c user.email=l@example.com commit -q -m "first commit"; ' +
        'cd /tmp; git clone -q repo copy; cat copy/file.txt; git -C copy log --format=%s; ls repo/.git/hooks | grep -c sample; git --exec-path',
    );
    expect(r.stderr).toBe('');
    const [content, subject, hooks, execPath] = r.stdout.trim().split('\n');
    expect(content).toBe('hello');
    expect(subject).toBe('first commit');
    // the templates (sample hooks) were found at their /opt place: git joins its compiled-in
    // prefix, moved to /opt by the directory rule (no recipe), to share/git-core/templates
    expect(Number(hooks)).toBeGreaterThan(5);
    expect(execPath).toBe('/opt/lib/git-core');
  });

  both('graphviz: dot renders a small graph to PNG with its plugins', async (run) => {
    const r = await run('set -e; echo "digraph { lambda -> layer -> opt }" | dot -Tpng -o /tmp/g.png; base64 /tmp/g.png');
    expect(r.stderr).toBe('');
    const { dark, total } = darkPixels(Buffer.from(r.stdout, 'base64'));
    expect(dark).toBeGreaterThan(300);
    expect(dark).toBeLessThan(total / 4);
  });

  both('tesseract-ocr: reads back the words of a rendered page', async (run) => {
    // the test renders the page to read with the ghostscript layer (tesseract's has no renderer)
    const render = await runLambdaLike(
      image,
      layers.get('ghostscript')!,
      'set -e; gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pnggray -r150 -sOutputFile=/tmp/p.png /work/hello.pdf; base64 /tmp/p.png',
      { work: inputs },
    );
    expect(render.code).toBe(0);
    const png = path.join(inputs, 'page.png');
    writeFileSync(png, Buffer.from(render.stdout, 'base64'));
    chmodSync(png, 0o644);
    const r = await run('tesseract /work/page.png - 2>/dev/null');
    expect(r.stdout.trim()).toBe('Hello Lambda Layer');
  });
});
