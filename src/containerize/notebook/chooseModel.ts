// Which part of a notebook serves predictions. The explicit contract wins: cells tagged
// `serve`, then a predict(records) function; otherwise a fitted model, by default the last one
// fitted that is not a transformer.
import { MlopsError } from '../../shared/errors';
import type { FittedModel, NotebookAnalysis } from './notebookAnalysis';

export type ServeChoice =
  | {
      mode: 'function';
      source: 'serve cells' | 'predict function';
      variable: 'predict';
      x: string | null;
      cell: number;
    }
  | { mode: 'estimator'; variable: string; x: string | null; model: FittedModel };

export function servingCandidates(analysis: NotebookAnalysis): ServeChoice[] {
  const sampleX = defaultModel(analysis.models)?.x ?? null;
  if (analysis.serveCells.length > 0)
    return [
      { mode: 'function', source: 'serve cells', variable: 'predict', x: sampleX, cell: analysis.serveCells[0]! },
    ];
  if (analysis.predict)
    return [
      { mode: 'function', source: 'predict function', variable: 'predict', x: sampleX, cell: analysis.predict.cell },
    ];
  const preferred = defaultModel(analysis.models);
  const rest = analysis.models.filter((model) => model !== preferred).reverse();
  return [preferred, ...rest]
    .filter((model) => model !== undefined)
    .map((model) => ({ mode: 'estimator', variable: model.variable, x: model.x, model }));
}

function defaultModel(models: FittedModel[]): FittedModel | undefined {
  return models.filter((model) => model.kind === 'model').at(-1) ?? models.at(-1);
}

/** The choice for a variable the user named, or the default; fails when nothing can serve. */
export function chooseServing(notebook: string, analysis: NotebookAnalysis, variable?: string): ServeChoice {
  const candidates = servingCandidates(analysis);
  if (variable) {
    const model = analysis.models.find((m) => m.variable === variable);
    if (variable === 'predict' && candidates[0]?.mode === 'function') return candidates[0];
    if (!model) {
      const known = analysis.models.map((m) => m.variable).join(', ') || 'none';
      throw new MlopsError(`${notebook} never fits '${variable}'. Fitted variables: ${known}.`);
    }
    return { mode: 'estimator', variable: model.variable, x: model.x, model };
  }
  const [first] = candidates;
  if (!first) {
    throw new MlopsError(
      `${notebook} fits no model (no \`model.fit(X, y)\`) and defines no predict(records).`,
      'Fit a scikit-learn style model in the notebook, or define predict(records) in a cell tagged serve.',
    );
  }
  return first;
}

/** Where the choice comes from, without its name: "(RandomForestClassifier), fitted in cell 8, line 2". */
export function describeOrigin(choice: ServeChoice): string {
  if (choice.mode === 'function') return `from the ${choice.source} (cell ${choice.cell})`;
  const { model } = choice;
  return `${model.estimator ? `(${model.estimator}), ` : ''}fitted in cell ${model.cell}, line ${model.line}`;
}
