import { describe, expect, it } from 'vitest';
import { isMetadataVolume, metadataVolumesOf } from '../../src/cache/metadata-volumes.js';
import { runYumda } from '../helpers/cli.js';

describe('the repository metadata volumes', () => {
  it.each([
    ['yumda-apt-lists-debian12-amd64-0123abcd', true],
    ['yumda-rpm-cache-al2023-x86_64-0123abcd', true],
    ['yumda-apt-listsx', false],
    ['my-yumda-apt-lists-x', false],
    ['pgdata', false],
  ])('isMetadataVolume(%s) = %s', (name, is) => expect(isMetadataVolume(name)).toBe(is));

  it("takes yumda's from df's answer, with size and users, by name; an unmeasured size is -1", () => {
    expect(
      metadataVolumesOf([
        { Name: 'yumda-rpm-cache-al2023-x86_64-b', UsageData: { Size: 10, RefCount: 1 } },
        { Name: 'other', UsageData: { Size: 99, RefCount: 0 } },
        { Name: 'yumda-apt-lists-debian12-amd64-a', UsageData: { Size: 2048, RefCount: 0 } },
        { Name: 'yumda-apt-lists-debian12-arm64-c', UsageData: null },
        { Name: 'yumda-apt-lists-debian13-amd64-d', UsageData: { Size: -1, RefCount: -1 } },
      ]),
    ).toEqual([
      { name: 'yumda-apt-lists-debian12-amd64-a', bytes: 2048, users: 0 },
      { name: 'yumda-apt-lists-debian12-arm64-c', bytes: -1, users: 0 },
      { name: 'yumda-apt-lists-debian13-amd64-d', bytes: -1, users: 0 },
      { name: 'yumda-rpm-cache-al2023-x86_64-b', bytes: 10, users: 1 },
    ]);
  });

  it('cache info without an engine still sizes the cache and says the volumes are not sized', async () => {
    const r = await runYumda(['cache', 'info'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').pop()).toBe(
      'Repository metadata is kept in Docker volumes (yumda-apt-lists-*, yumda-rpm-cache-*), not sized: the Docker engine is not reachable at unix:///nonexistent.sock (ENOENT)',
    );
  });

  it('cache clean --metadata needs the engine: without one it removes nothing and says so in one line', async () => {
    const r = await runYumda(['cache', 'clean', '--metadata'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^yumda: error: the Docker engine is not reachable at unix:\/\/\/nonexistent\.sock \(ENOENT\); start the Docker engine/),
    ]);
  });
});
