// @ts-check
// `npm run architecture`: the rooms of src/ with their share of the lines, the arrows against the
// layering, cycles and rule violations, as dependency-cruiser and a scan of the sources find them.
// With --json, the report as JSON (what test/unit/architecture.test.ts reads).
import { architectureReport, formatReport } from './lib/architecture.mjs';

const report = await architectureReport();
process.stdout.write(process.argv.includes('--json') ? JSON.stringify(report) : `${formatReport(report)}\n`);
