import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { helveticaPdf } from './pdf.js';
import { darkPixels } from './png.js';
import type { LambdaRun } from './lambda.js';

/** The five tools of issue 4, each checked by doing real work Lambda-like (tools.test.ts, arm64.test.ts). */
export const TOOLS = ['ghostscript', 'imagemagick', 'git', 'tesseract-ocr', 'graphviz'] as const;
export type Tool = (typeof TOOLS)[number];

export interface ToolContext {
  /** Runs `script` Lambda-like with the tool's layer at /opt and the inputs at /work. */
  run(script: string): Promise<LambdaRun>;
  /** The same with another tool's layer (tesseract reads a page the ghostscript layer renders). */
  runWith(tool: Tool, script: string): Promise<LambdaRun>;
  /** The inputs directory mounted at /work. */
  inputs: string;
}

/** A world-readable inputs directory holding hello.pdf (Helvetica text 'Hello Lambda Layer'). */
export function writeToolInputs(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  writeFileSync(path.join(dir, 'hello.pdf'), helveticaPdf('Hello Lambda Layer'));
}

export const TOOL_CHECKS: ReadonlyArray<{ tool: Tool; title: string; check(ctx: ToolContext): Promise<void> }> = [
  {
    tool: 'ghostscript',
    title: 'ghostscript: renders a PDF page with text to PNG',
    async check({ run }) {
      const r = await run('set -e; gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=png16m -r72 -sOutputFile=/tmp/p.png /work/hello.pdf; base64 /tmp/p.png');
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const { dark, total } = darkPixels(Buffer.from(r.stdout, 'base64'));
      expect(dark).toBeGreaterThan(1500);
      expect(dark).toBeLessThan(total / 20);
    },
  },
  {
    tool: 'imagemagick',
    title: 'imagemagick: resizes a PNG, converts it to JPEG and identifies the result',
    async check({ run }) {
      const r = await run(
        'set -e; convert -size 400x300 xc:white -fill black -draw "rectangle 50,50 350,250" /tmp/in.png; convert /tmp/in.png -resize 50% /tmp/out.jpg; identify /tmp/out.jpg; convert /tmp/out.jpg -format "%[fx:mean]" info:',
      );
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^\/tmp\/out\.jpg JPEG 200x150 200x150\+0\+0 8-bit/m);
      // a black rectangle over half the area: the mean intensity is about 0.5, not white (1) or black (0)
      const mean = Number(r.stdout.trim().split('\n').pop());
      expect(mean).toBeGreaterThan(0.4);
      expect(mean).toBeLessThan(0.7);
    },
  },
  {
    tool: 'git',
    title: 'git: init, commit and clone a local repository',
    async check({ run }) {
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
    },
  },
  {
    tool: 'graphviz',
    title: 'graphviz: dot renders a small graph to PNG with its plugins',
    async check({ run }) {
      const r = await run('set -e; echo "digraph { lambda -> layer -> opt }" | dot -Tpng -o /tmp/g.png; base64 /tmp/g.png');
      expect(r.stderr).toBe('');
      const { dark, total } = darkPixels(Buffer.from(r.stdout, 'base64'));
      expect(dark).toBeGreaterThan(300);
      expect(dark).toBeLessThan(total / 4);
    },
  },
  {
    tool: 'tesseract-ocr',
    title: 'tesseract-ocr: reads back the words of a rendered page',
    async check({ run, runWith, inputs }) {
      // the test renders the page to read with the ghostscript layer (tesseract's has no renderer)
      const render = await runWith('ghostscript', 'set -e; gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=pnggray -r150 -sOutputFile=/tmp/p.png /work/hello.pdf; base64 /tmp/p.png');
      expect(render.code).toBe(0);
      const png = path.join(inputs, 'page.png');
      writeFileSync(png, Buffer.from(render.stdout, 'base64'));
      chmodSync(png, 0o644);
      const r = await run('tesseract /work/page.png - 2>/dev/null');
      expect(r.stdout.trim()).toBe('Hello Lambda Layer');
    },
  },
];
