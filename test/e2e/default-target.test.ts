import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextTag } from '../../src/docker/images.js';
import { repoRoot, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `yumda install poppler-utils` with no target builds for al2023 in an Amazon Linux build image.
 * Whatever happens next, it first says exactly which image it builds and which repositories it reads.
 *
 * What happens next is fixed by the machine, not left open: no Amazon Linux image can be pulled on
 * the test machines or in CI (public.ecr.aws does not resolve, README "end-to-end tests"), so the
 * build of the image must fail, in one line naming it. Only where someone says otherwise with
 * YUMDA_TEST_AMAZON_LINUX_REACHABLE=1 (the registry and cdn.amazonlinux.com answer, or the build
 * image is already in the engine) must the dry run succeed instead.
 */
const amazonLinuxReachable = process.env.YUMDA_TEST_AMAZON_LINUX_REACHABLE === '1';

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/**
 * The build image's tag, computed here rather than taken from the code under test: the first 12 hex
 * digits of the SHA-256 of one line per file of the build context (depth first, names in order),
 * `path NUL mode-in-octal NUL sha256-of-content LF`.
 */
function expectedTag(dir: string): string {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else lines.push(`${r}\0${(st.mode & 0o777).toString(8)}\0${sha256(readFileSync(path.join(dir, r)))}\n`);
    }
  };
  walk('');
  return sha256(lines.join('')).slice(0, 12);
}

describe('the default target', () => {
  const tag = expectedTag(path.join(repoRoot, 'images/al2023'));

  it('prints the al2023 build image and repositories before anything runs, and names them again when it fails', async () => {
    expect(tag).toMatch(/^[0-9a-f]{12}$/);
    const d = tempDir();
    const r = await runYumda(['install', 'poppler-utils', '--dry-run'], { cwd: d });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'Building for al2023 x86_64 (runtime provided.al2023)',
      `  build image:  yumda/build-al2023:${tag} (images/al2023/Dockerfile, FROM public.ecr.aws/amazonlinux/amazonlinux:2023)`,
      '  repositories: https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list (mirror list)',
    ]);
    if (amazonLinuxReachable) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^Plan: \d+ packages for al2023 x86_64/m);
    } else {
      // no registry here: exit 1 and one error line that names the image, its base and the repositories
      expect(r.code, `the base image cannot be pulled here, so the build must fail (set YUMDA_TEST_AMAZON_LINUX_REACHABLE=1 where it can)\n${r.stderr}`).toBe(1);
      const last = r.stderr.trim().split('\n').pop()!;
      expect(last).toMatch(
        new RegExp(
          `^yumda: error: cannot build the al2023 build image yumda/build-al2023:${tag} \\(images/al2023/Dockerfile, FROM public\\.ecr\\.aws/amazonlinux/amazonlinux:2023\\): .+; it would resolve packages from https://cdn\\.amazonlinux\\.com/al2023/core/mirrors/latest/x86_64/mirror\\.list \\(mirror list\\); public\\.ecr\\.aws/amazonlinux/amazonlinux:2023 must be reachable \\(or already in the engine\\), or pass an image with the package manager as --build-image$`,
        ),
      );
      expect(r.stdout).not.toMatch(/^Plan: /m);
    }
    expect(existsSync(path.join(d, 'poppler-utils-al2023-x86_64.zip'))).toBe(false);
  });

  it('follows --target al2 --arch arm64 to the aarch64 repositories', async () => {
    const r = await runYumda(['install', 'git', '--target', 'al2', '--arch', 'arm64', '--dry-run'], { cwd: tempDir() });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'Building for al2 arm64 (runtime provided.al2)',
      `  build image:  yumda/build-al2:${expectedTag(path.join(repoRoot, 'images/al2'))} (images/al2/Dockerfile, FROM public.ecr.aws/amazonlinux/amazonlinux:2)`,
      '  repositories: https://cdn.amazonlinux.com/2/core/latest/aarch64/mirror.list (mirror list)',
    ]);
  });

  it("the build image's tag follows the context's content and modes, not where it lies", () => {
    const copy = path.join(tempDir(), 'al2023');
    cpSync(path.join(repoRoot, 'images/al2023'), copy, { recursive: true });
    expect(contextTag(copy)).toBe(tag);
    const dockerfile = path.join(copy, 'Dockerfile');
    const text = readFileSync(dockerfile);
    // one byte changed: the last newline becomes a space
    writeFileSync(dockerfile, Buffer.concat([text.subarray(0, -1), Buffer.from(' ')]));
    const changed = contextTag(copy);
    expect(changed).toMatch(/^[0-9a-f]{12}$/);
    expect(changed).not.toBe(tag);
    expect(changed).toBe(expectedTag(copy));
    writeFileSync(dockerfile, text);
    expect(contextTag(copy)).toBe(tag);
    chmodSync(dockerfile, 0o755);
    expect(contextTag(copy)).not.toBe(tag);
    expect(contextTag(copy)).toBe(expectedTag(copy));
  });
});
