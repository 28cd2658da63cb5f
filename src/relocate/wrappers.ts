import path from 'node:path';
import { raw, shellTemplate } from '../util/template.js';
import { EXEC_WRAPPER_PATH } from '../format/lambda.js';

const wrapperTemplate = shellTemplate(new URL('./wrapper.sh', import.meta.url));
const execWrapperTemplate = shellTemplate(new URL('./exec-wrapper.sh', import.meta.url));
const envLineTemplate = shellTemplate(new URL('./env-line.sh', import.meta.url));

/**
 * A layer cannot set environment variables, and some libraries read their configuration only
 * from a compiled-in path or an environment variable (fontconfig: /etc/fonts or FONTCONFIG_PATH).
 * For executables, a wrapper script sets the variables and execs the real program, which stays in
 * the same directory under a hidden name so that $ORIGIN and /proc/self/exe lookups still hold.
 */

export function wrappedRealPath(program: string): string {
  return path.posix.join(path.posix.dirname(program), `.${path.posix.basename(program)}.real`);
}

/**
 * Sets each variable unless the caller already set it, then execs the real program. With bash,
 * `exec -a "$0"` keeps the name the program was called by: multi-call programs dispatch on it,
 * and messages name the command the user typed.
 */
export function wrapperScript(shell: string, real: string, env: Record<string, string>, recipes: string[]): string {
  return wrapperTemplate({ SHELL: raw(shell), RECIPES: raw(recipes.join(', ')), ENVIRONMENT: raw(envLines(env).join('\n')), BASH: /bash$/.test(shell), REAL: real });
}

/** Each variable set unless the caller already set it (a function's own configuration wins). */
export function envLines(env: Record<string, string>): string[] {
  // set unless already set and non-empty, as `: "${K:=v}"` would; but the value is one quoted
  // word, since bash (not dash) reads a ' inside "${K:=…}" as an opening quote and the script fails
  return Object.keys(env)
    .sort()
    .map((k) => envLineTemplate({ NAME: k, VALUE: env[k]! }).replace(/\n$/, ''));
}

/**
 * The exec wrapper (EXEC_WRAPPER_PATH), for a function's AWS_LAMBDA_EXEC_WRAPPER setting: Lambda runs it with
 * the runtime's own command line, so code that loads the layer's libraries in-process (Node,
 * Python) gets the environment they need, which a layer cannot set itself.
 */
export function execWrapperScript(shell: string, env: Record<string, string>, recipes: string[]): string {
  return execWrapperTemplate({ SHELL: raw(shell), EXEC_WRAPPER_PATH: raw(EXEC_WRAPPER_PATH), RECIPES: raw(recipes.join(', ')), ENVIRONMENT: raw(envLines(env).join('\n')) });
}

/** ENV_PATH: `KEY=value` lines, for processes that load the layer's libraries in-process. */
export function envFileContent(env: Record<string, string>): string {
  return (
    '# Environment the libraries of this layer need; set these in your function configuration, or set\n' +
    `# AWS_LAMBDA_EXEC_WRAPPER=${EXEC_WRAPPER_PATH}, when your code loads them in-process\n` +
    '# (executables in /opt/bin set them themselves).\n' +
    Object.keys(env)
      .sort()
      .map((k) => `${k}=${env[k]}`)
      .join('\n') +
    '\n'
  );
}
