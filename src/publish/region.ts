import { getProfileName, loadSharedConfigFiles } from '@smithy/core/config';
import { UserError } from '../util/errors.js';

/** The regions to publish in, and where they came from (said by --dry-run and the error line). */
export interface RegionChoice {
  regions: string[];
  source: string;
}

/** The places a region is looked for, in the AWS CLI's order: what the no-region error names. */
export const REGION_SOURCES = '--region, AWS_REGION, AWS_DEFAULT_REGION, or a region in the AWS profile (AWS_PROFILE, ~/.aws/config or AWS_CONFIG_FILE)';

/**
 * The AWS CLI's order: --region, then AWS_REGION, AWS_DEFAULT_REGION, then the profile's region.
 * The SDK alone reads AWS_REGION and the profile, but not AWS_DEFAULT_REGION, which CI setups
 * written for the AWS CLI often set; an empty variable counts as unset, as the CLI has it.
 */
export function chooseRegions(flags: readonly string[], env: NodeJS.ProcessEnv, profile: { name: string; region?: string | undefined }): RegionChoice | undefined {
  if (flags.length) return { regions: [...new Set(flags)], source: '--region' };
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION'] as const) {
    const v = env[name]?.trim();
    if (v) return { regions: [v], source: name };
  }
  const r = profile.region?.trim();
  if (r) return { regions: [r], source: `the ${profile.name} profile` };
  return undefined;
}

/** The profile's region, read by the SDK's own loader (AWS_PROFILE, AWS_CONFIG_FILE honoured); none when there is no config file. */
async function profileRegion(): Promise<{ name: string; region?: string | undefined }> {
  const name = getProfileName({});
  const files = await loadSharedConfigFiles({ ignoreCache: true });
  return { name, region: files.configFile?.[name]?.region };
}

/** The regions publish uses, or the one line that says where to give one. */
export async function publishRegions(flags: readonly string[]): Promise<RegionChoice> {
  const choice = chooseRegions(flags, process.env, flags.length ? { name: '' } : await profileRegion());
  if (!choice) throw new UserError(`no AWS region to publish in: pass ${REGION_SOURCES}`);
  return choice;
}
