import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextTag } from '../../src/docker/images.js';
import { repoRoot, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * `yumda install poppler-utils` with no target builds for al2023 in an Amazon Linux build image.
 * Whatever happens next (here: the base image cannot be pulled, there is no registry), it first
 * says exactly which image it builds and which repositories it reads.
 */
describe('the default target', () => {
  const tag = contextTag(path.join(repoRoot, 'images/al2023'));

  it('prints the al2023 build image and repositories before anything runs, and names them again when it fails', async () => {
    const d = tempDir();
    const r = await runYumda(['install', 'poppler-utils', '--dry-run'], { cwd: d });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'Building for al2023 x86_64 (runtime provided.al2023)',
      `  build image:  yumda/build-al2023:${tag} (images/al2023/Dockerfile, FROM public.ecr.aws/amazonlinux/amazonlinux:2023)`,
      '  repositories: https://cdn.amazonlinux.com/al2023/core/mirrors/latest/x86_64/mirror.list (mirror list)',
    ]);
    if (r.code !== 0) {
      // no registry here: one error line that names the image, its base and the repositories
      const last = r.stderr.trim().split('\n').pop()!;
      expect(last).toMatch(
        new RegExp(
          `^yumda: error: cannot build the al2023 build image yumda/build-al2023:${tag} \\(images/al2023/Dockerfile, FROM public\\.ecr\\.aws/amazonlinux/amazonlinux:2023\\): .+; it would resolve packages from https://cdn\\.amazonlinux\\.com/al2023/core/mirrors/latest/x86_64/mirror\\.list \\(mirror list\\);`,
        ),
      );
    } else {
      expect(r.stdout).toMatch(/^Plan: \d+ packages for al2023 x86_64/m);
    }
    expect(existsSync(path.join(d, 'poppler-utils-al2023-x86_64.zip'))).toBe(false);
  });

  it('follows --target al2 --arch arm64 to the aarch64 repositories', async () => {
    const r = await runYumda(['install', 'git', '--target', 'al2', '--arch', 'arm64', '--dry-run'], { cwd: tempDir() });
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'Building for al2 arm64 (runtime provided.al2)',
      `  build image:  yumda/build-al2:${contextTag(path.join(repoRoot, 'images/al2'))} (images/al2/Dockerfile, FROM public.ecr.aws/amazonlinux/amazonlinux:2)`,
      '  repositories: https://cdn.amazonlinux.com/2/core/latest/aarch64/mirror.list (mirror list)',
    ]);
  });
});
