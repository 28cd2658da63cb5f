import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';
import { helveticaPdf } from '../helpers/pdf.js';
import { ensureRicImage, invokeUnderRic } from '../helpers/ric.js';

/**
 * The exec wrapper as a function meets it (issue 14): a Node handler run by AWS's runtime
 * interface client (aws-lambda-ric), started as Lambda starts a runtime, `$AWS_LAMBDA_EXEC_WRAPPER
 * node … <ric>`, against a Runtime API on loopback in the same Lambda-like container (read-only
 * root, /tmp a 512 MB tmpfs as Lambda's default ephemeral storage, uid 993, no network). The
 * handler looks at its environment and at /tmp before it spawns anything, so what it reports of
 * FONTCONFIG_PATH and the unpacked tree came from init, not from a launcher.
 */
const handlerSource = `
import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

function listPoppler(dir) {
  try { return readdirSync(dir).filter((n) => /^libpoppler.*\\.so/.test(n)); } catch { return null; }
}

export const handler = async (event, context) => {
  const atInit = {
    FONTCONFIG_PATH: process.env.FONTCONFIG_PATH ?? null,
    LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? null,
    tmpLibPoppler: listPoppler('/tmp/lib'),
  };
  writeFileSync('/tmp/in.pdf', Buffer.from(event.pdf, 'base64'));
  let text = null;
  let spawnError = null;
  try {
    text = (await run('pdftotext', ['/tmp/in.pdf', '-'])).stdout;
  } catch (e) {
    spawnError = String(e.stderr || e.message);
  }
  return { requestId: context.awsRequestId, atInit, text, spawnError };
};
`;

const wrapper = { AWS_LAMBDA_EXEC_WRAPPER: '/opt/.yumda/exec-wrapper' };

interface Reply {
  requestId: string;
  atInit: { FONTCONFIG_PATH: string | null; LD_LIBRARY_PATH: string | null; tmpLibPoppler: string[] | null };
  text: string | null;
  spawnError: string | null;
}

describe('the exec wrapper under the Node runtime interface client (aws-lambda-ric)', () => {
  const work = tempDir('yumda-ric-');
  const packed = path.join(work, 'packed');
  const unpacked = path.join(work, 'unpacked');
  const event = { pdf: helveticaPdf('Hello Runtime Client').toString('base64') };
  let image: string;
  let packedManifest: LayerManifest;

  beforeAll(async () => {
    const started = Date.now();
    image = await ensureRicImage();
    console.log(`ric image ready in ${Math.round((Date.now() - started) / 1000)} s: ${image}`);
    for (const [dir, flags] of [
      [packed, ['--pack']],
      [unpacked, []],
    ] as const) {
      const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', ...flags, '--out-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
    }
    packedManifest = JSON.parse(readFileSync(path.join(packed, '.yumda/manifest.json'), 'utf8'));
    // the first run on a machine builds aws-lambda-ric from source (6 to 10 minutes here)
  }, 2_400_000);

  it('a packed layer: the wrapper unpacks at init, the handler sees FONTCONFIG_PATH and /tmp/lib, and spawns pdftotext', async () => {
    const started = Date.now();
    const r = await invokeUnderRic({ image, layerDir: packed, handlerSource, event, env: wrapper, tmpMb: 512 });
    console.log(`packed, with the exec wrapper: init + one invocation ${Date.now() - started} ms (container included, this machine)`);
    expect(r.record?.kind, r.stderr).toBe('response');
    const reply = r.record!.body as Reply;
    expect(reply.requestId).toBe(r.record!.requestId);
    expect(reply.atInit.FONTCONFIG_PATH).toBe(packedManifest.env.FONTCONFIG_PATH);
    expect(reply.atInit.FONTCONFIG_PATH).toBe('/tmp/etc/fonts');
    expect(reply.atInit.LD_LIBRARY_PATH).toMatch(/:\/opt\/lib:\/tmp\/lib$/);
    expect(reply.atInit.tmpLibPoppler).toEqual(expect.arrayContaining([expect.stringMatching(/^libpoppler\.so\.\d+/)]));
    expect(reply.spawnError).toBeNull();
    expect(reply.text!.trim()).toBe('Hello Runtime Client');
    expect(r.stderr).toBe('');
  });

  it('the same without AWS_LAMBDA_EXEC_WRAPPER: nothing set or unpacked at init (the launcher on PATH still works)', async () => {
    const r = await invokeUnderRic({ image, layerDir: packed, handlerSource, event, tmpMb: 512 });
    expect(r.record?.kind, r.stderr).toBe('response');
    const reply = r.record!.body as Reply;
    expect(reply.atInit).toEqual({ FONTCONFIG_PATH: null, LD_LIBRARY_PATH: expect.stringMatching(/:\/opt\/lib$/), tmpLibPoppler: null });
    expect(reply.spawnError).toBeNull();
    expect(reply.text!.trim()).toBe('Hello Runtime Client');
  });

  it('an unpacked layer: its exec wrapper sets the environment its libraries need', async () => {
    const manifest: LayerManifest = JSON.parse(readFileSync(path.join(unpacked, '.yumda/manifest.json'), 'utf8'));
    expect(manifest.env).toEqual({ FONTCONFIG_PATH: '/opt/etc/fonts' });
    const r = await invokeUnderRic({ image, layerDir: unpacked, handlerSource, event, env: wrapper, tmpMb: 512 });
    expect(r.record?.kind, r.stderr).toBe('response');
    const reply = r.record!.body as Reply;
    expect(reply.atInit).toMatchObject({ FONTCONFIG_PATH: '/opt/etc/fonts', tmpLibPoppler: null });
    expect(reply.spawnError).toBeNull();
    expect(reply.text!.trim()).toBe('Hello Runtime Client');
    expect(r.stderr).toBe('');
  });

  it('the harness records a handler error as Lambda does: the error body and type, no response', async () => {
    const failing = 'export const handler = async () => { throw new TypeError(`no FONTCONFIG_PATH: ${process.env.FONTCONFIG_PATH}`); };';
    const r = await invokeUnderRic({ image, layerDir: packed, handlerSource: failing, event: {}, env: wrapper, tmpMb: 512 });
    expect(r.record).toMatchObject({ kind: 'error', body: { errorType: 'TypeError', errorMessage: 'no FONTCONFIG_PATH: /tmp/etc/fonts' } });
  });
  it('a handler the runtime cannot find: the init error is recorded, as Lambda reports it', async () => {
    const r = await invokeUnderRic({ image, layerDir: packed, handlerSource: 'export const other = 1;', event: {}, env: wrapper, tmpMb: 512 });
    expect(r.record).toMatchObject({ kind: 'initError', body: { errorType: 'Runtime.HandlerNotFound' } });
  });

  it('a /tmp too small for the packed tree: the wrapper fails init with one line, and the runtime never starts', async () => {
    const tmpMb = Math.max(1, Math.floor(packedManifest.packed!.tmpMb / 2));
    const r = await invokeUnderRic({ image, layerDir: packed, handlerSource, event, env: wrapper, tmpMb });
    expect(r.record).toBeUndefined();
    expect(r.code).toBe(98);
    expect(r.stderr).toMatch(
      new RegExp(
        `^yumda: exec-wrapper: /tmp has \\d+ MB free, unpacking needs ${packedManifest.packed!.tmpMb} MB: set the function's ephemeral storage to at least 512 MB\\nyumda-test: the runtime exited before posting a result\\n$`,
      ),
    );
  });
});
