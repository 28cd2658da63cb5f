import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../images/ensure-all-base-images.sh', import.meta.url));

/**
 * Makes sure the base images of `arch` exist (debian:11/12/13-slim for amd64; 12 and 13 as
 * `-arm64` for arm64): waits for .ci/run's background build of them where it is still going (the
 * script holds a lock per architecture), returns at once where they are current, makes them
 * where they are missing. The e2e setup waits for the amd64 ones; a test that builds or runs arm64
 * waits for the arm64 ones where it starts, so the files that need only amd64 need not wait for
 * the emulated debootstraps.
 */
export function ensureBaseImages(arch: 'amd64' | 'arm64'): void {
  try {
    execFileSync(script, ['--arch', arch, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
    throw new Error(`the ${arch} base images the end-to-end tests need could not be made:\n${stderr}`);
  }
}
