import { cc } from './cc.js';
import { tempDir } from './tmp.js';

/**
 * A program to launch: prints each argv on its own line (`argv[0]=...`), copies stdin to stdout,
 * writes one line to stderr and exits with the status given as argv[1], so a test sees whether a
 * launcher passed all of them through untouched.
 */
export const ECHO_ARGS_C = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\\n", i, argv[i]);
  int c;
  while ((c = getchar()) != EOF) putchar(c);
  fputs("stderr of echo-args\\n", stderr);
  return argc > 1 ? atoi(argv[1]) : 0;
}
`;

export async function echoArgsProgram(dir = tempDir()): Promise<string> {
  return (await cc(ECHO_ARGS_C, 'echo-args', [], dir)).path;
}
