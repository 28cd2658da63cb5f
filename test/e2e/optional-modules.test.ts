import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { tempDir } from '../helpers/tmp.js';
import { run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';

/** One second of a 440 Hz tone, 16-bit mono PCM at 8 kHz, as a WAV file. */
function toneWav(): Buffer {
  const rate = 8000;
  const samples = Buffer.alloc(rate * 2);
  for (let i = 0; i < rate; i++) samples.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + samples.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(samples.length, 40);
  return Buffer.concat([h, samples]);
}

/**
 * Issue 12, class 1, on a real package: vorbis-tools pulls libao, whose output plugins need sound
 * libraries nothing installs (ALSA, NAS, PulseAudio, sndio). The layer builds without
 * --allow-missing, says what it left out, and encodes and decodes Lambda-like through libao's
 * file output.
 */
describe('vorbis-tools: optional libao plugins are left out, the tools work', () => {
  const work = tempDir('yumda-vorbis-');
  const zip = path.join(work, 'vorbis.zip');
  const layer = path.join(work, 'layer');
  let stderr = '';

  beforeAll(async () => {
    chmodSync(work, 0o777);
    const r = await runYumda(['install', 'vorbis-tools', '--target', 'debian12', '--out', zip]);
    stderr = r.stderr;
    expect(r.code, r.stderr).toBe(0);
    mkdirSync(layer);
    expect((await run('unzip', ['-q', zip, '-d', layer])).code).toBe(0);
    writeFileSync(path.join(work, 'tone.wav'), toneWav());
    chmodSync(path.join(work, 'tone.wav'), 0o644);
  });

  it('builds without --allow-missing and names each plugin it left out, and why', () => {
    const lines = stderr.split('\n').filter((l) => l.startsWith('warning: left out'));
    expect(lines).toContainEqual(
      expect.stringMatching(/^warning: left out \/opt\/lib\/ao\/plugins-4\/libnas\.so: it needs libaudio\.so\.2, which neither the layer nor the debian12 runtime has/),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^warning: left out \/opt\/lib\/ao\/plugins-4\/libsndio\.so: it needs libsndio\.so\.7\.0/));
    const manifest = JSON.parse(readFileSync(path.join(layer, '.yumda/manifest.json'), 'utf8')) as { leftOut: Array<{ file: string; soname: string }> };
    expect(manifest.leftOut.map((m) => m.file)).toContain('/opt/lib/ao/plugins-4/libnas.so');
  });

  it('inspect lists what was left out', async () => {
    const r = await runYumda(['inspect', zip]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/left out at build time, \d+ modules .*\n(.*\n)*\s+lib\/ao\/plugins-4\/libnas\.so needs libaudio\.so\.2/);
  });

  it('oggenc encodes a WAV Lambda-like, and ogg123 decodes it back through libao', async () => {
    const image = await ensureRuntimeImage(loadRuntime('debian12').verifyImage!.name, loadRuntime('debian12').verifyImage!.context);
    for (const ldLibraryPath of [undefined, null]) {
      const r = await runLambdaLike(
        image,
        layer,
        'set -e; oggenc -Q -o /tmp/t.ogg /work/tone.wav; ogg123 -q -d wav -f /tmp/back.wav /tmp/t.ogg; od -A n -t x1 -N 4 /tmp/t.ogg; wc -c < /tmp/back.wav',
        { work, ldLibraryPath },
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const [magic, size] = r.stdout.trim().split('\n');
      expect(magic!.trim()).toBe('4f 67 67 53'); // OggS
      expect(Number(size)).toBeGreaterThan(15_000); // one second of 16-bit 8 kHz audio came back
    }
  });
});
