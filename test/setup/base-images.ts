import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Registered for every end-to-end file: the base images its builds and Lambda-like runs start from
// (debian:11/12/13-slim, and the arm64 variants) exist before its first test. Where .ci/run is
// still making them in the background, this waits for it (the script holds a lock); where they are
// current it returns in a fraction of a second; where they are missing, it makes them.
const script = fileURLToPath(new URL('../images/ensure-all-base-images.sh', import.meta.url));
try {
  execFileSync(script, ['--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
} catch (e) {
  const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
  throw new Error(`the base images the end-to-end tests need could not be made:\n${stderr}`);
}
