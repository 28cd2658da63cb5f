import type { Log, ResolveContext } from '../../resolve/backend.js';
import { STAGE_ARCHIVES, STAGE_OUT } from '../../resolve/backend.js';
import type { PlannedPackage } from '../../resolve/plan.js';
import type { Runner } from '../../runner/types.js';
import { alternativesRecorder, putShims, SHIM_DIR, STAGE_META } from '../../stage/shims.js';
import { tarOf } from '../../tree/tar.js';
import { UserError } from '../../util/errors.js';
import { shellTemplate } from '../../util/template.js';
import { APT_CONFIG, ARGS_FILE, fetchFailure, networkHint } from './container.js';

const stageTemplate = shellTemplate(new URL('./stage.sh', import.meta.url));
const installTemplate = shellTemplate(new URL('./install.sh', import.meta.url));
const ucfTemplate = shellTemplate(new URL('./shims/ucf.sh', import.meta.url));
const ucfrTemplate = shellTemplate(new URL('./shims/ucfr.sh', import.meta.url));

/**
 * The staging script for apt (stage.sh, run with bash in the build container, the planned
 * packages one per line in ARGS_FILE): download them four at a time, each checked against its
 * SHA-256, and unpack each as it comes in (two at a time), without its maintainer scripts,
 * keep the .deb for the scripts' later run, and record the links and config copies its postinst
 * would make.
 */
export function aptStageScript(): string {
  return stageTemplate({ ARGS_FILE, STAGE_OUT, ARCHIVES: STAGE_ARCHIVES, SHIMS: SHIM_DIR });
}

/**
 * What a postinst calls that staging records instead of running: update-alternatives (the links
 * it adds), ucf (config files installed from a copy the package ships), and ucfr beside it.
 */
export function aptShims(): Map<string, string> {
  return new Map([...alternativesRecorder(['update-alternatives']), [`${SHIM_DIR}/ucf`, ucfTemplate({ META: STAGE_META })], [`${SHIM_DIR}/ucfr`, ucfrTemplate({})]]);
}

/** dpkg's steps of the installation in a scratch root (stage/scripts.ts): see install.sh. */
export function debInstallSteps(purge: boolean): string {
  return installTemplate({ PURGE: purge });
}

/** Downloads the packages and unpacks them without maintainer scripts into STAGE_OUT, keeping the package files. */
export async function stageDebs(c: Runner, ctx: ResolveContext, packages: PlannedPackage[], log: Log): Promise<void> {
  await c.putArchive('/', await tarOf(new Map([[ARGS_FILE, packages.map((p) => `${p.name}:${p.arch}=${p.version}\n`).join('')]])));
  await putShims(c, aptShims());
  const r = await c.exec(['bash', '-c', aptStageScript()], {
    env: { APT_CONFIG, DEBIAN_FRONTEND: 'noninteractive' },
    onStdoutLine: (l) => {
      if (l.startsWith('downloaded ') || l.startsWith('unpacked ')) log(l);
    },
  });
  if (r.exitCode === 0) return;
  const fetch = fetchFailure(`${r.stdout}\n${r.stderr}`);
  if (fetch) {
    const hint = /^Hash Sum mismatch/.test(fetch)
      ? "the file's SHA-256 is not the one the repository's signed index gives (a mirror midway through a sync, a proxy's stale copy, or a file changed on the way); run again later, or with --refresh"
      : networkHint(ctx);
    throw new UserError(`cannot download the packages from the ${ctx.target.id} repositories: ${fetch}`, { hint });
  }
  throw new UserError(`downloading and unpacking the packages failed: ${r.stderr.trim().split('\n').slice(-3).join(' ') || `exit status ${r.exitCode}`}`);
}
