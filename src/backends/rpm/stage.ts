import path from 'node:path';
import type { Log, ResolveContext } from '../../resolve/backend.js';
import { STAGE_ARCHIVES, STAGE_OUT } from '../../resolve/backend.js';
import type { PlannedPackage } from '../../resolve/plan.js';
import type { Runner } from '../../runner/types.js';
import { alternativesRecorder, putShims, SHIM_DIR } from '../../stage/shims.js';
import { UserError } from '../../util/errors.js';
import { shellTemplate } from '../../util/template.js';
import { DOWNLOADED, DOWNLOADS, helper, JOB } from './helper.js';
import { parseEvr } from './version.js';

const stageTemplate = shellTemplate(new URL('./stage.sh', import.meta.url));
const installTemplate = shellTemplate(new URL('./install.sh', import.meta.url));

/** The rpm database the signing keys are imported into: the build container's own is not touched. */
const KEYS_DB = '/yumda/keys';

/**
 * The staging script (stage.sh): signatures checked where a repository asks for them, then each
 * package unpacked without its scriptlets, its file kept, its alternatives recorded.
 */
export function stageScript(files: string[], keyed: Array<{ file: string; key: string }>): string {
  return stageTemplate({
    STAGE_OUT,
    ARCHIVES: STAGE_ARCHIVES,
    KEYS_DB,
    KEYS: [...new Set(keyed.map((k) => k.key))],
    SIGNED: keyed.map((k) => k.file),
    FILES: files,
    SHIMS: SHIM_DIR,
  });
}

/** rpm's steps of the installation in a scratch root (stage/scripts.ts): see install.sh. */
export function rpmInstallSteps(purge: boolean): string {
  return installTemplate({ PURGE: purge });
}

/**
 * Downloads exact NEVRAs through the helper and unpacks them in the build container, without
 * scriptlets, into STAGE_OUT; the package files are kept for the scripts' later run.
 */
export async function stageRpms(c: Runner, ctx: ResolveContext, packages: PlannedPackage[], log: Log): Promise<void> {
  const nevras = packages.map((p) => {
    const e = parseEvr(p.version);
    return `${p.name}-${e.epoch ? `${e.epoch}:` : ''}${e.version}-${e.release}.${p.arch}`;
  });
  // everything may come from the runtime: then nothing is downloaded, and the layer is empty
  const reported = new Set<string>();
  const logDownload: Log = (line) => {
    const m = DOWNLOADED.exec(line);
    if (m) reported.add(m[1]!);
    log(line);
  };
  const d = nevras.length ? await helper(c, ctx, ['download', JOB, DOWNLOADS, ...nevras], logDownload, 'downloading') : { files: [], releases: {} };
  // what dnf did not report as it went (a package already in its cache; yum reports none)
  for (const f of d.files) if (!reported.has(path.posix.basename(f))) log(`downloaded ${path.posix.basename(f)}`);
  const repoOf = new Map(packages.map((p, i) => [nevras[i]!, p.repository]));
  const keyed: Array<{ file: string; key: string }> = [];
  d.files.forEach((f, i) => {
    const repo = ctx.repositories.find((x) => x.id === repoOf.get(nevras[i]!));
    if (repo?.gpgcheck && repo.gpgkey) keyed.push({ file: f, key: repo.gpgkey });
    // a release package's repository: signed when its .repo file says so, with the keys it shipped
    const rel = repo?.release ? d.releases?.[repo.id] : undefined;
    if (rel?.gpgcheck) {
      if (!rel.keys.length) throw new UserError(`${repo!.id} (configured by ${rel.package}) asks for signed packages but names no key file`);
      for (const key of rel.keys) keyed.push({ file: f, key });
    }
  });
  await putShims(c, alternativesRecorder(['alternatives', 'update-alternatives']));
  const r = await c.exec(['bash', '-c', stageScript(d.files, keyed)], { onStdoutLine: (l) => l.startsWith('unpacked ') && log(l) });
  if (r.exitCode === 4) throw new UserError(`a package failed its signature check: ${r.stderr.trim().split('\n').pop()}`);
  if (r.exitCode !== 0) throw new UserError(`unpacking the packages failed: ${r.stderr.trim().split('\n').slice(-3).join(' ')}`);
}
