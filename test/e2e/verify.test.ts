import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { darkPixels } from '../helpers/png.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { readZip } from '../helpers/zip.js';
import { cliPath, run, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 5, verify and inspect: `yumda verify` runs the checks Lambda-like and names what is
 * broken; `yumda inspect` accounts for every byte of the poppler layer.
 */
describe('yumda verify and yumda inspect on the poppler layer', () => {
  const work = tempDir('yumda-verify-');
  const zip = path.join(work, 'poppler.zip');

  /** A copy of the layer with some entries deleted by Info-ZIP. */
  async function without(name: string, patterns: string[]): Promise<string> {
    const f = path.join(work, name);
    copyFileSync(zip, f);
    const r = await run('zip', ['-q', '-d', f, ...patterns]);
    expect(r.code, r.stderr).toBe(0);
    return f;
  }

  beforeAll(async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', zip, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("passes on the good layer: closure, the recipes' smoke tests and a --run command, one line each", async () => {
    // the second command's output has no newline at its end: it is still its output
    const r = await runYumda(['verify', zip, '--target', 'debian12', '--run', 'pdftoppm -v', '--run', 'printf "%s" "$(pdfinfo -v 2>&1 | head -n1)"']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PASS closure: \d+ ELF files, every needed library is in the layer or the debian12 runtime$/);
    // the poppler-utils recipe renders a page set in Helvetica and reads the text back
    expect(lines).toContainEqual(expect.stringMatching(/^PASS smoke poppler-utils: printf .*… {2}\(yumda ok\)$/));
    expect(lines).toContainEqual(expect.stringMatching(/^PASS run: pdftoppm -v {2}\(pdftoppm version 22\./));
    expect(lines).toContainEqual(expect.stringMatching(/^PASS run: printf .* {2}\(pdfinfo version 22\.[0-9.]+\)$/));
    expect(lines.at(-1)).toMatch(/^verified: 5 passed, 0 failed \(Lambda-like in yumda\/runtime-debian12:[0-9a-f]{12}: read-only root/);
  });

  it("runs --run commands Lambda-like: uid 993, read-only /opt and root, only /tmp writable, exactly Lambda's environment; a page renders", async () => {
    const pdf = helveticaPdf('Hello Lambda Layer').toString('latin1');
    const render = `cat > /tmp/h.pdf <<'PDF'\n${pdf}PDF\npdftoppm -png -r 72 /tmp/h.pdf /tmp/page && pdftotext /tmp/h.pdf - && echo ===PNG=== && base64 /tmp/page-1.png`;
    const probe = 'id -u; id -g; env | sort; touch /opt/x 2>/dev/null && echo opt-writable; touch /x 2>/dev/null && echo root-writable; touch /tmp/x && echo tmp-writable; true';
    const r = await runYumda(['verify', zip, '--run', render, '--run', probe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { passed: boolean; checks: Array<{ check: string; status: string; command?: string; output?: string }> };
    expect(out.passed).toBe(true);
    const [rendered, probed] = out.checks.filter((c) => c.check === 'run');
    const [text, png] = rendered!.output!.split('===PNG===\n');
    expect(text!.trim()).toBe('Hello Lambda Layer');
    const { dark } = darkPixels(Buffer.from(png!, 'base64'));
    expect(dark).toBeGreaterThan(1500);
    // the environment is Lambda's two variables; PWD, SHLVL and _ are what the shell itself sets
    expect(probed!.output!.split('\n').filter((l) => !/^(PWD|SHLVL|_)=/.test(l))).toEqual([
      '993',
      '990',
      'LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
      'PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin',
      'tmp-writable',
    ]);
  });

  it('fails, naming the file and the soname, when a library was deleted from the zip', async () => {
    const broken = await without('no-libpoppler.zip', ['lib/libpoppler.so.126*']);
    const r = await runYumda(['verify', broken, '--target', 'debian12']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^FAIL closure: \/opt\/bin\/\.pdfattach\.real and 12 more files need libpoppler\.so\.126, which is not in the layer or the debian12 runtime$/);
    expect(lines).toContainEqual(
      expect.stringMatching(/^FAIL smoke poppler-utils: printf .*…: exit 127, output does not match .*libpoppler\.so\.126: cannot open shared object file/),
    );
    expect(lines.at(-1)).toMatch(/^verification failed: \d passed, 2 failed/);
    const json = JSON.parse((await runYumda(['verify', broken, '--json'])).stdout);
    expect(json.checks[0].missing).toContainEqual({ file: '/opt/bin/.pdftoppm.real', soname: 'libpoppler.so.126' });
  });

  it('fails when a smoke command fails, though every library resolves', async () => {
    const broken = await without('no-pdftoppm.zip', ['bin/.pdftoppm.real']);
    const r = await runYumda(['verify', broken]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PASS closure: /);
    expect(lines).toContainEqual(expect.stringMatching(/^FAIL smoke poppler-utils: printf .*…: exit 127, .*\/opt\/bin\/\.pdftoppm\.real: (not found|No such file or directory)$/));
    expect(lines.at(-1)).toMatch(/^verification failed: 2 passed, 1 failed/);
  });

  it('a command that does not finish in --timeout seconds fails', async () => {
    const r = await runYumda(['verify', zip, '--run', 'sleep 120', '--timeout', '2', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split('\n')[0]).toBe('FAIL run: sleep 120: no result after 2 s');
    expect(r.stderr).toBe('');
  });

  it('install --verify checks before writing: a failing check writes nothing; a passing one writes the layer', async () => {
    const bad = path.join(work, 'bad.zip');
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', bad, '--verify', '--run', 'echo broken >&2; exit 3', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toBe('FAIL run: echo broken >&2; exit 3: exit 3: broken');
    expect(r.stderr.trim()).toMatch(/^yumda: error: verification failed: 3 passed, 1 failed \(.*\); nothing written$/);
    expect(existsSync(bad)).toBe(false);
    const good = path.join(work, 'good.zip');
    const g = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', good, '--verify', '--run', 'pdftoppm -v', '--json']);
    expect(g.code, g.stderr).toBe(0);
    const { verification } = JSON.parse(g.stdout);
    expect(verification.passed).toBe(true);
    expect(verification.checks.map((c: { check: string; status: string }) => `${c.status} ${c.check}`)).toEqual([
      'pass closure',
      'pass modes',
      'pass smoke poppler-utils',
      'pass run',
    ]);
    expect(readFileSync(good).equals(readFileSync(zip))).toBe(true);
  });

  it('Ctrl-C during verify removes its containers and its volume', async () => {
    const child = spawn(process.execPath, [cliPath, 'verify', zip, '--run', 'sleep 60'], { env: { ...process.env, CI: 'true' } });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (c) => {
        stderr += c;
        if (stderr.includes('run: sleep 60')) resolve();
      });
    });
    const volume = (await run('docker', ['volume', 'ls', '-q', '--filter', `name=yumda-verify-${child.pid}-`])).stdout.trim();
    expect(volume).toMatch(/^yumda-verify-\d+-[0-9a-f]{8}$/);
    // the sleeping container is up before the signal
    for (let i = 0; i < 50 && !(await run('docker', ['ps', '-q', '--filter', `volume=${volume}`])).stdout.trim(); i++) await new Promise((r) => setTimeout(r, 100));
    expect((await run('docker', ['ps', '-q', '--filter', `volume=${volume}`])).stdout.trim()).not.toBe('');
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect((await run('docker', ['ps', '-aq', '--filter', `volume=${volume}`])).stdout.trim()).toBe('');
    expect((await run('docker', ['volume', 'ls', '-q', '--filter', `name=${volume}`])).stdout.trim()).toBe('');
  });

  it("inspect: per-package sizes from the layer's manifest add up to the total, which is what the zip holds", async () => {
    const r = await runYumda(['inspect', zip]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => /^ {2}PACKAGE +VERSION +FILES +SIZE +BYTES$/.test(l));
    const end = lines.findIndex((l, i) => i > head && /^ {2}total /.test(l));
    expect(head).toBeGreaterThan(0);
    const bytesOf = (l: string) => Number(/(\d+)$/.exec(l)![1]);
    const rows = lines.slice(head + 1, end);
    expect(rows.map((l) => l.trim().split(/\s+/)[0])).toEqual(
      expect.arrayContaining(['libpoppler126', 'poppler-utils', 'libfontconfig1', 'generated', '/opt/.yumda/manifest.json']),
    );
    expect(rows.length).toBeGreaterThan(30);
    const sum = rows.reduce((n, l) => n + bytesOf(l), 0);
    // the total, counted independently from the zip's own entries
    const unzipped = (await readZip(zip)).filter((e) => e.kind === 'file').reduce((n, e) => n + e.size, 0);
    expect(sum).toBe(unzipped);
    expect(bytesOf(lines[end]!)).toBe(unzipped);
    expect(r.stdout).toContain(`the rows add up to the unzipped size (${unzipped} bytes)`);
    expect(r.stdout).toMatch(/^ {2}ok +\d+\.\d% of Lambda's 250 MB limit for the function and all its layers, unzipped$/m);
    expect(r.stdout).toMatch(/^ {2}ok +\d+\.\d% of Lambda's 50 MB limit for a direct upload, zipped/m);
    expect(r.stdout).toMatch(/^ {2}bin\/pdftoppm +\d+ B +wrapper; runs bin\/\.pdftoppm\.real/m);
    expect(r.stdout).toMatch(/^Symlinks \(\d+, all resolve inside the layer\):$/m);
  });

  it('inspect on a truncated copy of the layer, or on the PDF: one error line, non-zero exit', async () => {
    const cut = path.join(work, 'cut.zip');
    writeFileSync(cut, readFileSync(zip).subarray(0, 1_000_000));
    const pdf = path.join(work, 'hello.pdf');
    writeFileSync(pdf, helveticaPdf('x'));
    const a = await runYumda(['inspect', cut]);
    expect(a.code).toBe(1);
    expect(a.stderr).toBe(`yumda: error: ${cut} is not a readable zip: End of central directory record signature not found. Either not a zip file, or file is truncated.\n`);
    const b = await runYumda(['inspect', pdf]);
    expect(b.code).toBe(1);
    expect(b.stderr).toBe(`yumda: error: ${pdf} is neither a zip nor an image tarball (it starts with "%PDF-1.4")\n`);
  });
});
