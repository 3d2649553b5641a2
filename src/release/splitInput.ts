// What a user types about a traffic split: variant names, the sticky key, and weights written as
// "production=90, candidate=10", checked before anything reaches the cluster.
import { PRODUCTION_VARIANT, type SplitStatus, type SplitVariant } from '../deploy/targets/deployTarget';
import { MlopsError } from '../shared/errors';

export function validateVariantName(text: string): string | undefined {
  const name = text.trim();
  if (name === PRODUCTION_VARIANT) return `${PRODUCTION_VARIANT} names the version serving now; choose another name.`;
  return /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name) && !name.includes('--')
    ? undefined
    : 'Use 1–32 lower-case letters, digits and single dashes, not starting or ending with a dash.';
}

export function validateStickyKey(text: string): string | undefined {
  const key = text.trim();
  return key === '' || /^(header:[A-Za-z0-9-]+|field:[A-Za-z0-9_.-]+)$/.test(key)
    ? undefined
    : "header:NAME (a request header) or field:NAME (a field of the request's first row), or empty.";
}

/** "production=90, candidate=10, shadow=25 (shadow)". */
export function formatWeights(variants: readonly Pick<SplitVariant, 'name' | 'weight' | 'shadow'>[]): string {
  return variants.map((v) => `${v.name}=${v.weight}${v.shadow ? ' (shadow)' : ''}`).join(', ');
}

/** The weights of "name=weight, ..." for the variants of `split`; every variant must be named once. */
export function parseWeights(text: string, split: SplitStatus): Record<string, number> {
  const weights: Record<string, number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.replace(/\(shadow\)/, '').trim())
    .filter(Boolean)) {
    const match = /^([a-z0-9-]+)\s*=\s*(\d{1,3})$/.exec(part);
    if (!match) throw new MlopsError(`'${part}' is not name=weight (a whole percentage).`);
    const [, name, value] = match;
    if (!split.variants.some((v) => v.name === name))
      throw new MlopsError(`${name} is not a variant of this test (${split.variants.map((v) => v.name).join(', ')}).`);
    if (name in weights) throw new MlopsError(`${name} is given twice.`);
    if (Number(value) > 100) throw new MlopsError(`${name}=${value}: a weight is a percentage, 100 at most.`);
    weights[name] = Number(value);
  }
  const missing = split.variants.filter((v) => !(v.name in weights)).map((v) => v.name);
  if (missing.length) throw new MlopsError(`Give a weight to ${missing.join(', ')} too.`);
  const live = split.variants.filter((v) => !v.shadow).reduce((sum, v) => sum + weights[v.name], 0);
  if (live === 0) throw new MlopsError('At least one variant that answers (not a shadow) needs a weight above 0.');
  return weights;
}

/** The split's variants with new weights (those not named keep theirs). */
export function weightsAfter(split: SplitStatus, weights: Record<string, number>): SplitVariant[] {
  for (const name of Object.keys(weights)) {
    if (!split.variants.some((v) => v.name === name))
      throw new MlopsError(`${name} is not a variant of the test of ${split.deployment}.`);
  }
  const variants = split.variants.map((v) => ({
    name: v.name,
    ...(v.name === PRODUCTION_VARIANT ? {} : { image: v.image }),
    weight: weights[v.name] ?? v.weight,
    ...(v.shadow ? { shadow: true } : {}),
    replicas: Math.max(1, v.replicas.desired),
  }));
  if (!variants.some((v) => !v.shadow && v.weight > 0))
    throw new MlopsError('At least one variant that answers (not a shadow) needs a weight above 0.');
  return variants;
}
