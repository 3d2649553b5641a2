// The architecture of src/ (DESIGN.md, "Two composition roots"): no cycles; rooms in layers, an
// import goes downward or stays in its room; webview-ui sees only the contracts and shared/.
// `vscode` outside the faces is ESLint's rule (eslint.config.mjs), not repeated here.
// Checked by test/unit/architecture.test.ts; `npm run architecture` prints the report.

const { LAYERS } = require('./scripts/lib/layers.cjs');

/** The path of a room's files, as a regular expression. */
const roomPath = (room) => (room === 'roots' ? '^src/(extension|cli)\\.ts$' : `^src/${room}/`);

/** One rule per room: it imports no room above it. */
const upwardRules = LAYERS.slice(1).map((room, index) => ({
  name: `layer-${room}`,
  comment: `${room} imports only from itself and the rooms below it: ${LAYERS.slice(index + 2).join(', ')}`,
  severity: 'error',
  from: { path: roomPath(room) },
  to: {
    path: LAYERS.slice(0, index + 1)
      .map(roomPath)
      .join('|'),
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle ties modules together so neither can change or be tested alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-import-of-roots',
      comment: 'Only the roots build services and register areas; nothing imports them.',
      severity: 'error',
      from: { path: '^(src|webview-ui/src)/' },
      to: { path: roomPath('roots') },
    },
    {
      name: 'webview-ui-sees-contracts',
      comment: 'The webviews import from src/ only the contracts of the areas and shared/.',
      severity: 'error',
      from: { path: '^webview-ui/src/' },
      to: { path: '^src/', pathNot: '^src/(shared/|.+/contract\\.ts$)' },
    },
    ...upwardRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    // Type-only imports count: they tie the layers as much as values do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
