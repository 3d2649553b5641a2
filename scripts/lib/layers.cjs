// @ts-check
// The rooms of src/ from top to bottom (DESIGN.md): the two roots, the areas, then host, webview
// and shared. An import goes downward or stays in its room. Read by .dependency-cruiser.cjs and
// scripts/lib/architecture.mjs.

const LAYERS = [
  'roots',
  'environment',
  'release',
  'monitor',
  'deploy',
  'serving',
  'containerize',
  'experiments',
  'datasets',
  'host',
  'webview',
  'shared',
];

/** The files of the roots: the only ones that build services and register every area. */
const ROOT_FILES = ['src/extension.ts', 'src/cli.ts'];

module.exports = { LAYERS, ROOT_FILES };
