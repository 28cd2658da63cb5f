import type { Arch } from '../registry/arch.js';
import type { Target } from '../registry/types.js';
import type { PackageRequest } from '../resolve/backend.js';
import { UserError } from '../util/errors.js';
import { shellQuote } from '../util/shell.js';

export interface SnippetSpec {
  target: Target;
  arch: Arch;
  packages: PackageRequest[];
  /** `install` flags that change the layer, passed on as given (`--keep-docs`, `--repo URL`, …). */
  flags: string[];
  toolVersion: string;
  /** What `npm install` installs in the stage: `yumda@<version>` unless told otherwise. */
  yumdaPackage?: string | undefined;
}

/** `yumda-poppler-utils`: a stage name Docker accepts, from the first package. */
export function stageName(packages: PackageRequest[]): string {
  return `yumda-${packages[0]!.name.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`;
}

/**
 * A Dockerfile snippet that builds the layer inside the user's own `docker build`, where yumda has
 * no Docker engine: a stage FROM the target's distribution with Node.js installs yumda and runs it
 * with --local (the package manager runs in that stage itself), and a FROM-scratch stage holds
 * just the layer at /opt, for `COPY --from=<stage> /opt /opt`.
 */
export function dockerfileSnippet(s: SnippetSpec): string {
  if (!s.target.nodeImage) {
    throw new UserError(`--dockerfile is not available for target ${s.target.id}: no image of its distribution with Node.js is known`, {
      hint: 'build the layer here with a build container (without --dockerfile), then `yumda image --layer` makes an image to COPY --from',
    });
  }
  // a value with a line break would end the RUN line and start an instruction of its own
  const values: Array<[string, string]> = [
    ...s.packages.map((p): [string, string] => ['a package', p.version ? `${p.name}=${p.version}` : p.name]),
    ...s.flags.map((f): [string, string] => ['an install flag', f]),
    ...(s.yumdaPackage !== undefined ? [['--yumda-package', s.yumdaPackage] as [string, string]] : []),
  ];
  for (const [what, v] of values) {
    if (v === '') throw new UserError(`${what} for --dockerfile is empty`);
    if (/[\x00-\x1f\x7f]/.test(v))
      throw new UserError(`${what} for --dockerfile holds a line break or control character (${JSON.stringify(v)}): it would change the generated Dockerfile`);
  }
  const stage = stageName(s.packages);
  const args = s.packages.map((p) => shellQuote(p.version ? `${p.name}=${p.version}` : p.name));
  const install = [
    'yumda',
    'install',
    ...args,
    '--target',
    s.target.id,
    '--arch',
    s.arch.lambda,
    ...s.flags.map(shellQuote),
    '--local',
    '--disposable',
    '--out-dir',
    '/yumda-layer',
  ].join(' ');
  const pkg = s.yumdaPackage ?? `yumda@${s.toolVersion}`;
  const what = s.packages.map((p) => p.name).join(' ');
  return [
    `# --- yumda ${s.toolVersion}: ${what} for ${s.target.id} (${s.arch.lambda}), relocated under /opt ---`,
    '# Paste at the top of your Dockerfile (before its first FROM), then copy the layer into your image:',
    `#   COPY --from=${stage} /opt /opt`,
    '# The first stage runs yumda with --local: the package manager runs in that stage itself, so the',
    `# build needs no Docker engine, only the npm registry and the ${s.target.distro.name} repositories.`,
    s.target.nodeSetup
      ? `# Build arguments: YUMDA_NODE_IMAGE, an image of ${s.target.distro.name} ${s.target.distro.version} (the RUN line installs Node.js in it);`
      : `# Build arguments: YUMDA_NODE_IMAGE, an image of ${s.target.distro.name} ${s.target.distro.version} with Node.js 20.15 or newer;`,
    '# YUMDA_PACKAGE, what `npm install` installs: a version, a tarball URL or a git URL.',
    `ARG YUMDA_NODE_IMAGE=${s.target.nodeImage}`,
    `FROM --platform=${s.arch.docker} \${YUMDA_NODE_IMAGE} AS ${stage}-build`,
    `LABEL org.yumda.stage=${stage}`,
    `ARG YUMDA_PACKAGE=${shellQuote(pkg)}`,
    // a distribution with no official Node.js image gets it from its own repositories
    ...(s.target.nodeSetup
      ? [`RUN ${s.target.nodeSetup} \\`, ' && npm install --global --omit=dev --ignore-scripts --no-audit --no-fund "$YUMDA_PACKAGE" \\']
      : ['RUN npm install --global --omit=dev --ignore-scripts --no-audit --no-fund "$YUMDA_PACKAGE" \\']),
    ` && ${install}`,
    '',
    `FROM scratch AS ${stage}`,
    `COPY --from=${stage}-build /yumda-layer /opt`,
    `LABEL org.yumda.stage=${stage}`,
    '# --- end of the yumda stage ---',
    '',
  ].join('\n');
}
