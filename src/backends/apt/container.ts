import { repositoryLocation } from '../../registry/repositories.js';
import type { Repository } from '../../registry/types.js';

/**
 * apt in the build container, as resolving and staging both run it: where its configuration
 * and the list of packages it is given are, and what its failures to fetch say.
 */

/** The apt.conf every apt command runs with (APT_CONFIG): all of apt's state under /yumda. */
export const APT_CONFIG = '/yumda/etc/apt.conf';

/** The words of a command, one a line, read into `$ARGS` (mapfile): a long list would pass the kernel's limit for one argument. */
export const ARGS_FILE = '/yumda/etc/args';

/**
 * apt's fetch failures said once: the first failed URL and why, and how many more failed, instead
 * of one `Failed to fetch` line per file (a container without network fails every one of them).
 */
export function fetchFailure(output: string): string | undefined {
  const failed = [...output.matchAll(/^[EW]: Failed to fetch (\S+)\s*(.*)$/gm)];
  if (failed.length === 0) {
    const other = /^[EW]: (Some index files failed to download.*|Unable to fetch some archives.*)$/m.exec(output);
    return other?.[1];
  }
  const [, url, why] = failed[0]!;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
  return `${why?.trim() || 'failed'}: ${url}${more}`;
}

/** What to check when a repository cannot be reached from the build container. */
export function networkHint(ctx: { repositories: Repository[] }): string {
  return (
    `repositories: ${ctx.repositories.map(repositoryLocation).join(', ')}; check the build container's network ` +
    '(--network or YUMDA_DOCKER_NETWORK; use host where the Docker engine has no bridge network) and the proxy settings (HTTP_PROXY, HTTPS_PROXY are passed into it)'
  );
}
