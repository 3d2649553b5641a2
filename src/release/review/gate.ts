// The review gate of a deployment: promotion waits for `minReviews` reviews of which at least
// `minAcceptance` found the candidate right. The thresholds come from the `review` section of the
// workspace's mlops.config.json and from the `mlops.review.gate` setting (which wins), keyed by
// deployment name, with "*" for every deployment:
//   { "review": { "*": { "minReviews": 30, "minAcceptance": 0.9 }, "churn": { "minReviews": 50 } } }
import type { BadLineReporter } from '../../shared/badLines';
import { MlopsError } from '../../shared/errors';
import { CONFIG_FILE, readConfigSection } from '../../monitor/monitoringConfig';
import { latestDecisions, readDecisions, tally } from './decisions';
import type { GateSettings, ReviewDecision, ReviewGate, ReviewTally } from './model';

type Section = Record<string, Record<string, unknown>>;

/** Without any setting: 30 reviews, 90 % of them for the candidate. */
export const DEFAULT_GATE: GateSettings = { minReviews: 30, minAcceptance: 0.9 };

function checkEntry(entry: unknown, where: string): Partial<GateSettings> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new MlopsError(`${where} must be an object with minReviews and minAcceptance.`);
  const { minReviews, minAcceptance } = entry as Record<string, unknown>;
  if (minReviews !== undefined && (typeof minReviews !== 'number' || !Number.isInteger(minReviews) || minReviews < 0))
    throw new MlopsError(`${where}.minReviews must be a whole number, 0 or more, not ${JSON.stringify(minReviews)}.`);
  if (minAcceptance !== undefined && (typeof minAcceptance !== 'number' || !(minAcceptance >= 0 && minAcceptance <= 1)))
    throw new MlopsError(
      `${where}.minAcceptance is a share between 0 and 1 (0.9 for 90 %), not ${JSON.stringify(minAcceptance)}.`,
    );
  return {
    ...(minReviews !== undefined ? { minReviews } : {}),
    ...(minAcceptance !== undefined ? { minAcceptance } : {}),
  };
}

/** The gate of one deployment: the defaults, then "*", then its own entry; the setting over the file. */
export function gateSettingsFor(name: string, workspace: string, setting: Section = {}): GateSettings {
  const gate = { ...DEFAULT_GATE };
  for (const [source, section] of [
    [CONFIG_FILE, readConfigSection(workspace, 'review')],
    ['mlops.review.gate', setting],
  ] as const) {
    for (const key of ['*', name])
      if (section[key] !== undefined) Object.assign(gate, checkEntry(section[key], `${source} review["${key}"]`));
  }
  return gate;
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** Whether the decisions (the last one per request counts) open the gate, and what it waits for. */
export function reviewGate(decisions: readonly ReviewDecision[], settings: GateSettings): ReviewGate {
  const counts = tally(decisions);
  const accepted = counts.candidate + counts.both;
  const acceptance = counts.reviews ? accepted / counts.reviews : null;
  const enough = counts.reviews >= settings.minReviews;
  const accepting = (acceptance ?? 0) >= settings.minAcceptance || (counts.reviews === 0 && settings.minReviews === 0);
  const open = enough && accepting;
  const acceptanceText = acceptance === null ? 'no reviews yet' : `acceptance ${percent(acceptance)}`;
  const reason = `${counts.reviews} of ${settings.minReviews} reviews; ${acceptanceText} (needs ${percent(settings.minAcceptance)})${open ? ': the gate is open' : ''}`;
  return { open, reviews: counts.reviews, accepted, acceptance, ...settings, reason };
}

export interface DeploymentGateOptions {
  /** The `mlops.review.gate` setting, in VS Code. */
  setting?: Section;
  /** Only the decisions about this candidate version. */
  candidateVersion?: string;
  /** Told of each damaged line of the decisions (it is skipped). */
  onBadLine?: BadLineReporter;
}

/**
 * The gate of a deployment as its files say now: the decisions in its monitoring folder `dir`
 * (`monitoringDir`) against the thresholds of the workspace.
 */
export function deploymentGate(
  dir: string,
  name: string,
  workspace: string,
  options: DeploymentGateOptions = {},
): { gate: ReviewGate; tally: ReviewTally } {
  const latest = latestDecisions(
    readDecisions(dir, options.onBadLine ? { onBadLine: options.onBadLine } : {}),
    options.candidateVersion,
  );
  return { gate: reviewGate(latest, gateSettingsFor(name, workspace, options.setting)), tally: tally(latest) };
}
