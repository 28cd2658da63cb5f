import { createHash } from 'node:crypto';
import { cpSync, copyFileSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';
import { tempDir } from './tmp.js';

/**
 * A stand-in for node:22-bookworm-slim (the debian12 --dockerfile stage's and yumda image's base),
 * which cannot be pulled here: Debian 12 slim plus the Node.js and npm that run these tests (20.x:
 * the engines floor is what CI runs), at the places the official image has them
 * (/usr/local/bin/node, /usr/local/lib/node_modules/npm). Where this machine's npm trusts an extra
 * CA bundle (`npm config get cafile`: a TLS-intercepting proxy on the way to the registry), the
 * image gets that bundle and setting too, as any image used on this network would need.
 * Built once per Node version and CA bundle.
 */
export async function ensureNodeImage(): Promise<string> {
  const npmCli = realpathSync((await run('sh', ['-c', 'command -v npm'])).stdout.trim());
  const npmDir = path.resolve(path.dirname(npmCli), '..');
  const npmVersion = (await run('npm', ['--version'])).stdout.trim();
  const cafile = (await run('npm', ['config', 'get', 'cafile'])).stdout.trim();
  const ca = cafile && cafile !== 'null' && existsSync(cafile) ? readFileSync(cafile) : undefined;
  const caTag = ca ? `-ca${createHash('sha256').update(ca).digest('hex').slice(0, 8)}` : '';
  const ref = `yumda-test/node-bookworm-slim:${process.versions.node}-npm${npmVersion}${caTag}`;
  if ((await run('docker', ['image', 'inspect', ref])).code === 0) return ref;
  const ctx = tempDir('yumda-node-image-');
  copyFileSync(process.execPath, path.join(ctx, 'node'));
  cpSync(npmDir, path.join(ctx, 'npm'), { recursive: true });
  if (ca) writeFileSync(path.join(ctx, 'ca.crt'), ca);
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM debian:12-slim',
      'COPY node /usr/local/bin/node',
      'COPY npm /usr/local/lib/node_modules/npm',
      ...(ca ? ['COPY ca.crt /usr/local/etc/yumda-test-ca.crt', 'RUN echo cafile=/usr/local/etc/yumda-test-ca.crt > /usr/local/etc/npmrc'] : []),
      'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && node --version && npm --version',
      '',
    ].join('\n'),
  );
  const r = await run('docker', ['build', '-q', '--network', 'none', '-t', ref, ctx]);
  await run('rm', ['-rf', ctx]);
  if (r.code !== 0) throw new Error(`building ${ref} failed: ${r.stderr}`);
  return ref;
}
