/**
 * The import rules of src/ (issue 23), checked by `npm run lint`: no cycles; Lambda's facts and
 * the layer format (format/), the file tree (tree/) and the utilities (util/) are the bottom, so
 * they import nothing above them; a command is parse → call → print and imports no other command.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle: the modules in it can no longer be read, tested or moved one at a time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'util-is-a-leaf',
      comment: 'util/ is the bottom: it imports only util/ (and packages).',
      severity: 'error',
      from: { path: '^src/util/' },
      to: { path: '^src/', pathNot: '^src/util/' },
    },
    {
      name: 'tree-is-a-leaf',
      comment: 'tree/ imports only tree/ and util/.',
      severity: 'error',
      from: { path: '^src/tree/' },
      to: { path: '^src/', pathNot: '^src/(tree|util)/' },
    },
    {
      name: 'format-is-a-leaf',
      comment: "format/ (Lambda's facts, the layer format) imports only format/, tree/ and util/: everything else reads it, not the other way.",
      severity: 'error',
      from: { path: '^src/format/' },
      to: { path: '^src/', pathNot: '^src/(format|tree|util)/' },
    },
    {
      name: 'lambda-facts-import-nothing',
      comment: "format/lambda.ts is the one place each of Lambda's constants is written: it imports nothing.",
      severity: 'error',
      from: { path: '^src/format/lambda\\.ts$' },
      to: {},
    },
    {
      name: 'commands-do-not-import-commands',
      comment: 'What two commands share lives below them (cli/build-options.ts, check/, pipeline/), not in one of them.',
      severity: 'error',
      from: { path: '^src/cli/commands/([^/]+)\\.ts$' },
      to: { path: '^src/cli/commands/', pathNot: '^src/cli/commands/$1\\.ts$' },
    },
    {
      name: 'backends-do-not-import-backends',
      comment: 'A package-manager backend (backends/apt, backends/rpm) stands alone: what two share is generic, in resolve/ or stage/.',
      severity: 'error',
      from: { path: '^src/backends/([^/]+)/' },
      to: { path: '^src/backends/', pathNot: '^src/backends/$1/' },
    },
    {
      name: 'nothing-imports-the-cli',
      comment: 'The CLI is the top: the pipeline and its stages report through events, never through cli/.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
