import { describe, expect, it } from 'vitest';
import { baseOfDockerfile } from '../../src/docker/images.js';
import { variantName } from '../../src/docker/platform.js';
import { parseArch } from '../../src/registry/arch.js';

describe('the base image of a Dockerfile (issue 13: FROM ${BASE} lets an arm64 variant stand in)', () => {
  it.each([
    ['FROM debian:12-slim\nRUN true\n', 'debian:12-slim'],
    ['# c\nARG BASE=debian:12-slim\nFROM ${BASE}\n', 'debian:12-slim'],
    ['ARG BASE=public.ecr.aws/amazonlinux/amazonlinux:2023\nFROM --platform=linux/arm64 $BASE AS b\n', 'public.ecr.aws/amazonlinux/amazonlinux:2023'],
    // an ARG after FROM belongs to the stage: it does not name the base
    ['FROM ${BASE}\nARG BASE=x\n', '${BASE}'],
    ['RUN true\n', undefined],
  ])('%j → %s', (text, base) => {
    expect(baseOfDockerfile(text)).toBe(base);
  });

  it('the images of this repository name their base through ARG BASE, which resolves to the image they were written for', async () => {
    const { dockerfileBase } = await import('../../src/docker/images.js');
    expect(dockerfileBase('images/runtime-debian12/Dockerfile')).toBe('debian:12-slim');
    expect(dockerfileBase('images/debian12/Dockerfile')).toBe('debian:12-slim');
    expect(dockerfileBase('images/al2023/Dockerfile')).toBe('public.ecr.aws/amazonlinux/amazonlinux:2023');
  });
});

describe('the local stand-in of an image of another architecture', () => {
  it.each([
    ['debian:12-slim', 'arm64', 'debian:12-slim-arm64'],
    ['public.ecr.aws/lambda/provided:al2023', 'aarch64', 'public.ecr.aws/lambda/provided:al2023-arm64'],
    ['debian:12-slim', 'x86_64', 'debian:12-slim-amd64'],
  ])('%s for %s is %s', (base, arch, name) => {
    expect(variantName(base, parseArch(arch))).toBe(name);
  });
});
