import { loadPackageNames } from '../registry/load.js';
import type { Runner } from '../runner/types.js';
import { errorMessage } from '../util/errors.js';
import { NotFoundError, staleMetadataHint, type Backend, type Log, type MetadataSource, type ResolveContext } from './backend.js';
import { suggestionsFor, suggestionText } from './suggest.js';

/** For how many missing requests names are suggested. */
const MAX_SUGGESTED = 5;

/**
 * A not-found error as the user gets it: with the names the target's repositories have near
 * each missing one (and its family's name for the other family's), and, when the metadata came
 * from the cache, that a package added since is not in it yet. Reading the names is best effort:
 * without them the error is said as it was.
 */
export async function explainNotFound(
  e: NotFoundError,
  at: { backend: Backend; c: Runner; ctx: ResolveContext; metadata: MetadataSource | undefined; log: Log },
): Promise<NotFoundError> {
  // a few are typos worth a suggestion; a long list of unknown names is something else
  const wanted = e.missing.filter((r) => !r.version).slice(0, MAX_SUGGESTED);
  let names: Set<string> | undefined;
  if (wanted.length && at.backend.packageNames) {
    try {
      names = new Set(await at.backend.packageNames(at.c, at.ctx, at.log));
    } catch (err) {
      at.log(`cannot list the repositories' package names for suggestions: ${errorMessage(err)}`);
    }
  }
  const pairs = loadPackageNames().pairs;
  const suggestions = new Map(wanted.map((r) => [r.name, suggestionsFor(r.name, at.ctx.target.family, names, pairs)]));
  const text = suggestionText(suggestions);
  const hint = [staleMetadataHint(at.metadata), e.hint].filter(Boolean).join('; ');
  return new NotFoundError(text ? `${e.message} (${text})` : e.message, { ...(hint ? { hint } : {}), missing: e.missing, suggestions });
}
