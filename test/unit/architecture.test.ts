// The architecture of src/ (DESIGN.md): no cycles, few arrows against the layering, no room with
// more than a quarter of the lines, and only the roots register another area's commands.
// dependency-cruiser with .dependency-cruiser.cjs; `npm run architecture` prints the same report.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { before, test } from 'node:test';
import * as v from 'valibot';
import { repoRoot } from '../../scripts/lib/setup.mjs';

/** Arrows against the layering allowed while the last ones are taken down. */
const MAX_UPWARD_ARROWS = 5;
const MAX_ROOM_SHARE = 0.25;

const Report = v.object({
  layers: v.array(v.string()),
  violations: v.array(v.object({ rule: v.string(), from: v.string(), to: v.string(), cycle: v.array(v.string()) })),
  cycles: v.array(v.object({ from: v.string(), cycle: v.array(v.string()) })),
  upwardArrows: v.array(v.object({ from: v.string(), to: v.string(), imports: v.number() })),
  rooms: v.array(v.object({ room: v.string(), lines: v.number(), share: v.number() })),
  registrations: v.array(v.object({ file: v.string(), name: v.string(), from: v.string() })),
});

// dependency-cruiser is an ES module that tsx's require hook cannot load: the report comes from its script.
async function architectureReport(): Promise<v.InferOutput<typeof Report>> {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'architecture.mjs'), '--json'], { cwd: repoRoot });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 0, `scripts/architecture.mjs --json exited with ${code}: ${stderr}`);
  return v.parse(Report, JSON.parse(stdout));
}

let report: v.InferOutput<typeof Report>;
before(async () => {
  report = await architectureReport();
});

test('no module of src/ or webview-ui/src/ is in an import cycle', (t) => {
  for (const cycle of report.cycles) t.diagnostic(`cycle: ${[cycle.from, ...cycle.cycle].join(' -> ')}`);
  assert.equal(report.cycles.length, 0);
});

test(`at most ${MAX_UPWARD_ARROWS} pairs of rooms import against the layering`, (t) => {
  t.diagnostic(`layers, top to bottom: ${report.layers.join(' > ')}`);
  for (const arrow of report.upwardArrows) t.diagnostic(`${arrow.from} -> ${arrow.to} (${arrow.imports} imports)`);
  assert.ok(
    report.upwardArrows.length <= MAX_UPWARD_ARROWS,
    `${report.upwardArrows.length} arrows go upward: ${report.upwardArrows.map((a) => `${a.from} -> ${a.to}`).join(', ')}`,
  );
});

test('nothing imports the roots, and webview-ui imports from src/ only contracts and shared/', () => {
  const others = report.violations.filter((v) => v.rule !== 'no-circular' && !v.rule.startsWith('layer-'));
  assert.deepEqual(
    others.map((v) => `${v.rule}: ${v.from} -> ${v.to}`),
    [],
  );
});

test(`no room of src/ holds more than ${MAX_ROOM_SHARE * 100}% of its lines`, (t) => {
  for (const room of report.rooms)
    t.diagnostic(`${room.room.padEnd(14)} ${String(room.lines).padStart(6)} ${(room.share * 100).toFixed(1)}%`);
  const large = report.rooms.filter((room) => room.share > MAX_ROOM_SHARE).map((room) => room.room);
  assert.deepEqual(large, []);
});

test("only src/extension.ts and src/cli.ts import another area's register* function", () => {
  assert.deepEqual(
    report.registrations.map((r) => `${r.file} imports ${r.name} from ${r.from}`),
    [],
  );
});
