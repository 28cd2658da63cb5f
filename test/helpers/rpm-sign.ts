import { mkdirSync } from 'node:fs';
import { run } from './cli.js';

/** gpg in its own home directory, without an agent's prompts: for the keys that sign test packages. */
export async function gpg(home: string, args: string[]): Promise<string> {
  const r = await run('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args]);
  if (r.code !== 0) throw new Error(`gpg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A signing key made in `home` for `uid` (`name <email>`); returns its armored public key. */
export async function signingKey(home: string, uid: string): Promise<Buffer> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  await gpg(home, ['--quick-gen-key', uid, 'rsa2048', 'sign', 'never']);
  return Buffer.from(await gpg(home, ['--armor', '--export', /<(.*)>/.exec(uid)![1]!]));
}

/** Signs an rpm in place with the key of `name` in `home`, as a distribution signs its packages. */
export async function signRpm(file: string, home: string, name: string): Promise<void> {
  const r = await run('rpmsign', [
    '--addsign',
    '--define',
    '__gpg /usr/bin/gpg',
    '--define',
    `_gpg_name ${name}`,
    '--define',
    `_gpg_path ${home}`,
    '--define',
    `_gpg_sign_cmd_extra_args --batch --pinentry-mode loopback --passphrase ''`,
    file,
  ]);
  if (r.code !== 0) throw new Error(`rpmsign ${file}: ${r.stderr}`);
}
