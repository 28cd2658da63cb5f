/**
 * Path globs as recipes write them: `*` within one path component, `**` across components, `?`
 * one character. Small enough that a dependency would cost more than it saves.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // s: `**` spans a newline in a file name too
  return new RegExp(`^${re}$`, 's');
}

export function matchesAny(p: string, globs: readonly RegExp[]): boolean {
  return globs.some((g) => g.test(p));
}
