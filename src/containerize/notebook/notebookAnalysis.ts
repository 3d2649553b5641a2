// What runtime/mlops_runtime/analyze.py reports about a notebook, validated at the boundary.
import * as v from 'valibot';

const FittedModel = v.object({
  variable: v.string(),
  cell: v.number(),
  line: v.number(),
  estimator: v.nullable(v.string()),
  kind: v.picklist(['model', 'transformer']),
  x: v.nullable(v.string()),
  y: v.nullable(v.string()),
});
export type FittedModel = v.InferOutput<typeof FittedModel>;

const Requirement = v.object({
  module: v.nullable(v.string()),
  distribution: v.string(),
  version: v.nullable(v.string()),
  spec: v.optional(v.string()),
});
export type InferredRequirement = v.InferOutput<typeof Requirement>;

export const NotebookAnalysis = v.object({
  script: v.string(),
  cells: v.array(
    v.object({
      index: v.number(),
      role: v.picklist(['train', 'serve', 'sample-input', 'dropped']),
      notes: v.array(v.string()),
    }),
  ),
  syntaxErrors: v.array(
    v.object({
      cell: v.number(),
      line: v.nullable(v.number()),
      column: v.nullable(v.number()),
      message: v.string(),
      text: v.string(),
    }),
  ),
  models: v.array(FittedModel),
  predict: v.nullable(
    v.object({ cell: v.number(), line: v.number(), params: v.array(v.string()), serve: v.boolean() }),
  ),
  serveCells: v.array(v.number()),
  sampleInputCell: v.nullable(v.number()),
  dataFiles: v.array(v.string()),
  missingDataFiles: v.array(v.object({ path: v.string(), cell: v.number(), line: v.number() })),
  localModules: v.array(v.string()),
  requirements: v.array(Requirement),
});
export type NotebookAnalysis = v.InferOutput<typeof NotebookAnalysis>;

export const AnalysisOutput = v.union([v.object({ error: v.string() }), NotebookAnalysis]);
