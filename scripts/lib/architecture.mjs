// @ts-check
// The architecture report of src/ from dependency-cruiser (.dependency-cruiser.cjs) and a scan of
// the sources: cycles, arrows against the layering, each room's share of the lines, and areas that
// register another area's commands. Read by test/unit/architecture.test.ts and `npm run architecture`.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import layers from './layers.cjs';
import { repoRoot } from './setup.mjs';

const { LAYERS, ROOT_FILES } = layers;

/** The room of a path relative to the repository: `roots`, a folder of src/, or undefined outside src/. */
export function roomOf(/** @type {string} */ path) {
  if (ROOT_FILES.includes(path)) return 'roots';
  return /^src\/([^/]+)\//.exec(path)?.[1];
}

/** @typedef {{ rule: string, from: string, to: string, cycle: string[] }} Violation */
/** @typedef {{ from: string, to: string, imports: number }} Arrow */
/** @typedef {{ room: string, lines: number, share: number }} RoomSize */
/** @typedef {{ file: string, name: string, from: string }} Registration */

/** Runs dependency-cruiser over src/ and webview-ui/src/ with the project's rules. @returns {Promise<Violation[]>} */
async function violations() {
  const options = await extractDepcruiseOptions(join(repoRoot, '.dependency-cruiser.cjs'));
  const tsConfig = extractTSConfig(join(repoRoot, 'tsconfig.json'));
  const cwd = process.cwd();
  process.chdir(repoRoot);
  try {
    const { output } = await cruise(['src', 'webview-ui/src'], options, {}, { tsConfig });
    if (typeof output === 'string') throw new Error(`dependency-cruiser gave text, not a result: ${output}`);
    return output.summary.violations.map((v) => ({
      rule: v.rule.name,
      from: v.from,
      to: v.to,
      cycle: (v.cycle ?? []).map((step) => step.name),
    }));
  } finally {
    process.chdir(cwd);
  }
}

/** The TypeScript files under a folder of the repository, relative to it with `/`. */
function typeScriptFiles(/** @type {string} */ folder) {
  return readdirSync(join(repoRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => posix.join(folder, file.split('\\').join('/')))
    .sort();
}

/** Lines of TypeScript per room of src/, largest first. @returns {RoomSize[]} */
function roomSizes() {
  /** @type {Map<string, number>} */
  const lines = new Map();
  for (const file of typeScriptFiles('src')) {
    const room = roomOf(file) ?? file;
    const text = readFileSync(join(repoRoot, file), 'utf8');
    lines.set(room, (lines.get(room) ?? 0) + text.split('\n').length - (text.endsWith('\n') ? 1 : 0));
  }
  const total = [...lines.values()].reduce((sum, n) => sum + n, 0);
  return [...lines].map(([room, n]) => ({ room, lines: n, share: n / total })).sort((a, b) => b.lines - a.lines);
}

/** Imports of a `registerX` function from another room, outside the roots. @returns {Registration[]} */
function foreignRegistrations() {
  /** @type {Registration[]} */
  const found = [];
  const imports = /import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g;
  for (const file of typeScriptFiles('src')) {
    const room = roomOf(file);
    if (room === 'roots') continue;
    for (const [, names, specifier] of readFileSync(join(repoRoot, file), 'utf8').matchAll(imports)) {
      if (!specifier.startsWith('.')) continue;
      const from = roomOf(posix.join(dirname(file), specifier) + '.ts');
      if (from === room) continue;
      for (const name of names.split(',').map((n) =>
        n
          .trim()
          .split(/\s+as\s+/)[0]
          .replace(/^type\s+/, ''),
      ))
        if (/^register[A-Z]/.test(name)) found.push({ file, name, from: from ?? specifier });
    }
  }
  return found;
}

/**
 * The whole report: every violation, the arrows against the layering (distinct pairs of rooms,
 * with how many imports each), the rooms' sizes and the foreign registrations.
 */
export async function architectureReport() {
  const all = await violations();
  /** @type {Map<string, Arrow>} */
  const arrows = new Map();
  for (const v of all.filter((v) => v.rule.startsWith('layer-'))) {
    const from = roomOf(v.from) ?? v.from;
    const to = roomOf(v.to) ?? v.to;
    const arrow = arrows.get(`${from} -> ${to}`) ?? { from, to, imports: 0 };
    arrow.imports++;
    arrows.set(`${from} -> ${to}`, arrow);
  }
  return {
    layers: LAYERS,
    violations: all,
    cycles: all.filter((v) => v.rule === 'no-circular'),
    upwardArrows: [...arrows.values()],
    rooms: roomSizes(),
    registrations: foreignRegistrations(),
  };
}

/** The report as text for people. @param {Awaited<ReturnType<typeof architectureReport>>} report */
export function formatReport(report) {
  const percent = (/** @type {number} */ share) => `${(share * 100).toFixed(1)}%`.padStart(6);
  return [
    `Layers, top to bottom: ${report.layers.join(' > ')}`,
    '',
    'Lines of TypeScript per room of src/:',
    ...report.rooms.map((r) => `  ${r.room.padEnd(14)} ${String(r.lines).padStart(6)} ${percent(r.share)}`),
    '',
    `Arrows against the layering (${report.upwardArrows.length}):`,
    ...report.upwardArrows.map((a) => `  ${a.from} -> ${a.to} (${a.imports} imports)`),
    '',
    `Cycles: ${report.cycles.length}`,
    ...report.cycles.map((c) => `  ${[c.from, ...c.cycle].join(' -> ')}`),
    '',
    `Registrations of another area outside the roots (${report.registrations.length}):`,
    ...report.registrations.map((r) => `  ${r.file} imports ${r.name} from ${r.from}`),
    '',
    `Violations (${report.violations.length}):`,
    ...report.violations.map((v) => `  ${v.rule}: ${v.from} -> ${v.to}`),
  ].join('\n');
}
