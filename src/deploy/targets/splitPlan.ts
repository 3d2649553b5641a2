// What both targets do with a TrafficSplit before touching the cluster: check it, name the
// workloads of its variants, write the router's groups, and keep the split as one JSON record
// on the cluster (a Swarm label, a Kubernetes annotation), the only place it lives.
import * as v from 'valibot';
import { MlopsError } from '../../shared/errors';
import { PRODUCTION_VARIANT, type SplitVariant, type TrafficSplit } from './deployTarget';

/** What the cluster keeps about a split. */
export interface SplitRecord {
  variants: { name: string; image: string; weight: number; shadow: boolean; replicas: number }[];
  stickyKey: string | null;
  startedAt: string;
}

const VARIANT_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const STICKY_KEY = /^(header|field):\S+$/;

/** The service or Deployment of a variant: `NAME--VARIANT`, and `NAME` for production. */
export function variantWorkload(deployment: string, variant: string): string {
  return variant === PRODUCTION_VARIANT ? deployment : `${deployment}--${variant}`;
}

/**
 * Fails with the variant or field at fault unless the split is one the router can run: one
 * production variant, one or more others with valid names, weights of 0 or more (shadow ones
 * 1–100 %), some live traffic, and a sticky key of the form `header:NAME` or `field:NAME`.
 * `maxWorkloadName` is the longest service or Deployment name the target accepts.
 */
export function checkSplit(deployment: string, split: TrafficSplit, maxWorkloadName: number): void {
  const names = split.variants.map((variant) => variant.name);
  const production = split.variants.find((variant) => variant.name === PRODUCTION_VARIANT);
  if (!production)
    throw new MlopsError(
      `The split of ${deployment} has no '${PRODUCTION_VARIANT}' variant.`,
      `Add { name: '${PRODUCTION_VARIANT}', weight } for the version that serves now.`,
    );
  if (production.shadow)
    throw new MlopsError(
      `The '${PRODUCTION_VARIANT}' variant of ${deployment} cannot be a shadow: its answers are the ones returned.`,
    );
  if (split.variants.length < 2)
    throw new MlopsError(
      `The split of ${deployment} has no variant besides '${PRODUCTION_VARIANT}'.`,
      'Add a candidate with its image and weight.',
    );
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice) throw new MlopsError(`The split of ${deployment} names the variant '${twice}' twice.`);
  for (const variant of split.variants) {
    if (variant.name !== PRODUCTION_VARIANT) {
      if (!VARIANT_NAME.test(variant.name))
        throw new MlopsError(
          `'${variant.name}' is not a valid variant name: use lower-case letters, digits and dashes, not starting or ending with a dash.`,
        );
      const workload = variantWorkload(deployment, variant.name);
      if (workload.length > maxWorkloadName)
        throw new MlopsError(
          `The variant '${variant.name}' would run as ${workload}, longer than ${maxWorkloadName} characters.`,
          'Use a shorter variant name.',
        );
    }
    if (typeof variant.weight !== 'number' || !Number.isFinite(variant.weight) || variant.weight < 0)
      throw new MlopsError(
        `The weight of variant '${variant.name}' must be a number, 0 or more, not ${String(variant.weight)}.`,
      );
    if (variant.shadow && (variant.weight <= 0 || variant.weight > 100))
      throw new MlopsError(
        `The shadow variant '${variant.name}' mirrors a percentage of requests: its weight must be above 0 and at most 100, not ${variant.weight}.`,
      );
    if (variant.replicas !== undefined && (!Number.isInteger(variant.replicas) || variant.replicas < 1))
      throw new MlopsError(
        `The replicas of variant '${variant.name}' must be a whole number, 1 or more, not ${variant.replicas}.`,
      );
  }
  if (!split.variants.some((variant) => !variant.shadow && variant.weight > 0))
    throw new MlopsError(
      `The split of ${deployment} sends no live traffic anywhere: give a variant that is not a shadow a weight above 0.`,
    );
  if (split.stickyKey !== undefined && !STICKY_KEY.test(split.stickyKey))
    throw new MlopsError(
      `The sticky key '${split.stickyKey}' is neither header:NAME nor field:NAME.`,
      'For example header:X-User-Id or field:user_id.',
    );
}

/** The variants other than production, in the split's order. */
export function candidates(split: TrafficSplit): SplitVariant[] {
  return split.variants.filter((variant) => variant.name !== PRODUCTION_VARIANT);
}

/** MLOPS_ROUTER_BACKENDS for a split: a group per variant, named after it, at `address(workload)`. */
export function splitBackends(deployment: string, record: SplitRecord, address: (workload: string) => string): string {
  return JSON.stringify(
    record.variants.map((variant) => ({
      name: variant.name,
      addresses: [address(variantWorkload(deployment, variant.name))],
      weight: variant.weight,
      ...(variant.shadow ? { shadow: true } : {}),
    })),
  );
}

export function splitRecord(split: TrafficSplit, images: Map<string, string>, startedAt: string): SplitRecord {
  return {
    variants: split.variants.map((variant) => ({
      name: variant.name,
      image: images.get(variant.name) ?? '',
      weight: variant.weight,
      shadow: Boolean(variant.shadow),
      replicas: variant.replicas ?? 1,
    })),
    stickyKey: split.stickyKey ?? null,
    startedAt,
  };
}

/** A split record as a label or annotation holds it. */
const SplitLabel = v.object({
  variants: v.array(
    v.looseObject({
      name: v.string(),
      image: v.string(),
      weight: v.number(),
      shadow: v.boolean(),
      replicas: v.number(),
    }),
  ),
  stickyKey: v.optional(v.nullable(v.string()), null),
  startedAt: v.string(),
});

/** The record kept on the cluster, or null when the text is missing or not one (someone edited it). */
export function parseSplitRecord(text: string | undefined): SplitRecord | null {
  if (!text) return null;
  try {
    const record = v.safeParse(SplitLabel, JSON.parse(text));
    return record.success ? record.output : null;
  } catch {
    return null;
  }
}

/**
 * What a variant's model server is told about itself, so that its request log names the variant
 * (and marks a shadow) even for requests that come without the router's headers.
 */
export function variantEnv(input: { variant: string; shadow: boolean }): { name: string; value: string }[] {
  return [
    { name: 'MLOPS_VARIANT', value: input.variant },
    ...(input.shadow ? [{ name: 'MLOPS_SHADOW', value: '1' }] : []),
  ];
}
