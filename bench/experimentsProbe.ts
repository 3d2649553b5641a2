// One measurement of our readers in a fresh process, so peak memory is per measurement:
// experimentsProbe.ts search|history TRACKING_URI EXPERIMENT_ID RUN_ID KEY
// Prints JSON {seconds, count, peakRssMb}. Loading Node and the modules is not timed, as the
// peer's import of MLflow is not.
import { DEFAULT_MAX_POINTS } from '../src/experiments/model';
import { openStore } from '../src/experiments/storeLocator';

async function main(): Promise<void> {
  const [what, uri, experimentId, runId, key] = process.argv.slice(2);
  const started = performance.now();
  const store = openStore(uri);
  let count: number;
  if (what === 'search') {
    count = (await store.searchRuns({ experimentIds: [experimentId] })).runs.length;
  } else {
    const history = await store.metricHistory(runId, key, DEFAULT_MAX_POINTS);
    if (history.points.length > DEFAULT_MAX_POINTS) throw new Error('the series was not downsampled');
    count = history.totalPoints;
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  process.stdout.write(`${JSON.stringify({ seconds, count, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}

void main();
