// The shape of a saved back-test report, checked when a report file is read back.
import * as v from 'valibot';
import { JsonNumber } from '../../shared/checked';
import { CLASSIFICATION_GATE_METRICS, REGRESSION_GATE_METRICS, type BacktestReport } from './model';

const NullableNumber = v.nullable(v.number());

const VersionResult = v.looseObject({
  role: v.picklist(['candidate', 'baseline']),
  image: v.string(),
  version: v.nullable(v.string()),
  healthyAfterMs: JsonNumber,
  rows: v.number(),
  predicted: v.number(),
  failedRequests: v.number(),
  errors: v.array(v.string()),
  requests: v.number(),
  seconds: JsonNumber,
  rowsPerSecond: JsonNumber,
  requestsPerSecond: JsonNumber,
  latencyMs: v.looseObject({ p50: NullableNumber, p95: NullableNumber, mean: NullableNumber }),
  latencySeries: v.array(JsonNumber),
  classification: v.optional(
    v.looseObject({
      accuracy: JsonNumber,
      precision: JsonNumber,
      recall: JsonNumber,
      f1: JsonNumber,
      rocAuc: NullableNumber,
    }),
  ),
  regression: v.optional(v.looseObject({ mae: JsonNumber, rmse: JsonNumber, r2: JsonNumber })),
  confusion: v.optional(v.array(v.array(v.number()))),
  residuals: v.optional(
    v.looseObject({
      mean: JsonNumber,
      p5: NullableNumber,
      p50: NullableNumber,
      p95: NullableNumber,
      maxAbs: JsonNumber,
    }),
  ),
  scores: v.boolean(),
});

export const BacktestReportSchema: v.GenericSchema<unknown, BacktestReport> = v.looseObject({
  kind: v.literal('mlops.backtest'),
  createdAt: v.string(),
  data: v.looseObject({
    source: v.string(),
    label: v.string(),
    rows: v.number(),
    skipped: v.number(),
    skippedReason: v.nullable(v.string()),
    columns: v.array(v.string()),
  }),
  task: v.picklist(['classification', 'regression']),
  classes: v.nullable(v.array(v.string())),
  positiveClass: v.nullable(v.string()),
  averaging: v.nullable(v.picklist(['binary', 'macro'])),
  batchSize: v.number(),
  parallelism: v.number(),
  candidate: VersionResult,
  baseline: v.nullable(VersionResult),
  comparison: v.nullable(
    v.looseObject({
      compared: v.number(),
      disagreements: v.number(),
      rate: JsonNumber,
      top: v.array(
        v.looseObject({
          row: v.number(),
          inputs: v.record(v.string(), v.unknown()),
          label: v.optional(v.unknown(), () => undefined),
          candidate: v.optional(v.unknown(), () => undefined),
          baseline: v.optional(v.unknown(), () => undefined),
          difference: NullableNumber,
        }),
      ),
    }),
  ),
  gate: v.looseObject({
    metric: v.picklist([...CLASSIFICATION_GATE_METRICS, ...REGRESSION_GATE_METRICS]),
    regressionKind: v.optional(v.picklist(['points', 'relative'])),
    maxRegression: NullableNumber,
    passed: v.boolean(),
    reason: v.string(),
    candidate: NullableNumber,
    baseline: NullableNumber,
    regression: NullableNumber,
    unknownClasses: v.optional(v.array(v.string())),
  }),
});
