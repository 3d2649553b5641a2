// The Gateway API side of a split on Kubernetes: which Gateway an HTTPRoute of the namespace
// attaches to (the one the setting names, else the only one whose listeners admit HTTPRoutes from
// the namespace), and what the Gateway's controller wrote into the route's status. Pure, so both
// are unit-tested on real-shaped objects.
import * as v from 'valibot';
import { MlopsError } from '../../../shared/errors';
import type { RouteStatus } from '../deployTarget';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Where the setting comes from, for messages. */
export const GATEWAY_SETTING = 'mlops.kubernetes.gateway';

export interface GatewayRef {
  namespace: string;
  name: string;
}

export function gatewayText(ref: GatewayRef): string {
  return `${ref.namespace}/${ref.name}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The setting's Gateway: `NAMESPACE/NAME`, or `NAME` in the deployment's namespace; null when empty. */
export function parseGatewaySetting(text: string, namespace: string): GatewayRef | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const parts = trimmed.split('/');
  const [gatewayNamespace, name] = parts.length === 2 ? parts : [namespace, parts[0]];
  if (parts.length > 2 || !DNS_LABEL.test(gatewayNamespace ?? '') || !DNS_SUBDOMAIN.test(name ?? ''))
    throw new MlopsError(
      `${GATEWAY_SETTING} is '${trimmed}', which is neither NAMESPACE/NAME nor NAME of a Gateway.`,
      'For example infra/public-gateway, or leave it empty to use the only Gateway that admits routes from the namespace.',
    );
  return { namespace: gatewayNamespace!, name: name! };
}

const LabelSelector = v.object({
  matchLabels: v.optional(v.record(v.string(), v.string()), {}),
  matchExpressions: v.optional(
    v.array(
      v.object({
        key: v.string(),
        operator: v.string(),
        values: v.optional(v.array(v.string()), []),
      }),
    ),
    [],
  ),
});

const Listener = v.object({
  name: v.string(),
  port: v.number(),
  protocol: v.string(),
  allowedRoutes: v.optional(
    v.object({
      namespaces: v.optional(v.object({ from: v.optional(v.string(), 'Same'), selector: v.optional(LabelSelector) })),
      kinds: v.optional(v.array(v.object({ group: v.optional(v.string(), GATEWAY_GROUP), kind: v.string() }))),
    }),
  ),
});

/** A Gateway as the API server returns it (the fields a route's attachment depends on). */
const GatewaySchema = v.object({
  metadata: v.object({ name: v.string(), namespace: v.string() }),
  spec: v.object({ gatewayClassName: v.string(), listeners: v.array(Listener) }),
  status: v.optional(v.object({ addresses: v.optional(v.array(v.object({ value: v.string() })), []) }), {
    addresses: [],
  }),
});
export type Gateway = v.InferOutput<typeof GatewaySchema>;

const GatewayList = v.object({ items: v.array(v.unknown()) });

/** The Gateways of a list (or one Gateway) the API server returned; ones that do not parse are left out. */
export function parseGateways(answer: unknown): Gateway[] {
  const list = v.safeParse(GatewayList, answer);
  const items = list.success ? list.output.items : [answer];
  return items.flatMap((item) => {
    const gateway = v.safeParse(GatewaySchema, item);
    return gateway.success ? [gateway.output] : [];
  });
}

/** Whether a listener of any of the Gateways admits routes by namespace labels (then they are read). */
export function needsNamespaceLabels(gateways: Gateway[]): boolean {
  return gateways.some((gateway) =>
    gateway.spec.listeners.some((listener) => listener.allowedRoutes?.namespaces?.from === 'Selector'),
  );
}

function selects(selector: v.InferOutput<typeof LabelSelector>, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(selector.matchLabels).every(([key, value]) => labels[key] === value);
  return (
    matchLabels &&
    selector.matchExpressions.every(({ key, operator, values }) => {
      const has = key in labels;
      if (operator === 'In') return has && values.includes(labels[key]!);
      if (operator === 'NotIn') return !has || !values.includes(labels[key]!);
      if (operator === 'Exists') return has;
      if (operator === 'DoesNotExist') return !has;
      return false;
    })
  );
}

/**
 * Whether a listener of the Gateway takes HTTPRoutes from `namespace`: an HTTP or HTTPS listener
 * (or one whose `allowedRoutes.kinds` names HTTPRoute), whose `allowedRoutes.namespaces.from` is
 * Same (the default) and the namespace is the Gateway's, All, or Selector and it selects the
 * namespace's labels.
 */
export function admitsRoutesFrom(
  gateway: Gateway,
  namespace: string,
  namespaceLabels: Record<string, string>,
): boolean {
  return admittingListeners(gateway, namespace, namespaceLabels).length > 0;
}

function admittingListeners(
  gateway: Gateway,
  namespace: string,
  namespaceLabels: Record<string, string>,
): Gateway['spec']['listeners'] {
  return gateway.spec.listeners.filter((listener) => {
    const kinds = listener.allowedRoutes?.kinds;
    const httpRoutes = kinds
      ? kinds.some((kind) => kind.group === GATEWAY_GROUP && kind.kind === 'HTTPRoute')
      : listener.protocol === 'HTTP' || listener.protocol === 'HTTPS';
    if (!httpRoutes) return false;
    const from = listener.allowedRoutes?.namespaces ?? { from: 'Same' };
    if (from.from === 'All') return true;
    if (from.from === 'Same') return gateway.metadata.namespace === namespace;
    if (from.from === 'Selector') return from.selector ? selects(from.selector, namespaceLabels) : false;
    return false;
  });
}

/**
 * Where clients reach routes of `namespace` on the Gateway: each address its controller assigned
 * (status.addresses) on each admitting HTTP(S) listener's port; none before a controller assigns one.
 */
export function gatewayUrls(gateway: Gateway, namespace: string, namespaceLabels: Record<string, string>): string[] {
  const listeners = admittingListeners(gateway, namespace, namespaceLabels).filter(
    (listener) => listener.protocol === 'HTTP' || listener.protocol === 'HTTPS',
  );
  return gateway.status.addresses.flatMap(({ value }) =>
    listeners.map((listener) => {
      const scheme = listener.protocol === 'HTTPS' ? 'https' : 'http';
      const host = value.includes(':') ? `[${value}]` : value;
      const port = listener.port === (scheme === 'https' ? 443 : 80) ? '' : `:${listener.port}`;
      return `${scheme}://${host}${port}`;
    }),
  );
}

/**
 * The Gateway a split's HTTPRoute attaches to, or why there is none (then the in-cluster proxy
 * runs the split). `named` is the setting's choice: it must exist and admit the namespace's routes.
 * Without it, the only Gateway that admits them; several are an error, since picking one would be
 * a guess about which clients should reach the split.
 */
export function chooseGateway(input: {
  gateways: Gateway[];
  namespace: string;
  namespaceLabels: Record<string, string>;
  named: GatewayRef | null;
}): { gateway: GatewayRef; urls: string[] } | { none: string } {
  const { namespace, named } = input;
  const admitting = input.gateways.filter((gateway) => admitsRoutesFrom(gateway, namespace, input.namespaceLabels));
  const refs = admitting.map((gateway) => ({ namespace: gateway.metadata.namespace, name: gateway.metadata.name }));
  const urls = (gateway: Gateway) => gatewayUrls(gateway, namespace, input.namespaceLabels);
  if (named) {
    const found = input.gateways.find(
      (gateway) => gateway.metadata.namespace === named.namespace && gateway.metadata.name === named.name,
    );
    if (!found)
      throw new MlopsError(
        `${GATEWAY_SETTING} names the Gateway ${gatewayText(named)}, which does not exist (or cannot be read).`,
        refs.length
          ? `Gateways that admit routes from ${namespace}: ${refs.map(gatewayText).join(', ')}.`
          : 'Create it, or leave the setting empty to split through the in-cluster proxy.',
      );
    if (!admitting.includes(found))
      throw new MlopsError(
        `The Gateway ${gatewayText(named)} (${GATEWAY_SETTING}) has no HTTP listener that admits HTTPRoutes from the namespace ${namespace}.`,
        "Allow it in a listener's allowedRoutes.namespaces (Same, All or a Selector), or name another Gateway.",
      );
    return { gateway: named, urls: urls(found) };
  }
  if (refs.length === 1) return { gateway: refs[0]!, urls: urls(admitting[0]!) };
  if (refs.length > 1)
    throw new MlopsError(
      `Several Gateways admit HTTPRoutes from ${namespace}: ${refs.map(gatewayText).join(', ')}.`,
      `Set ${GATEWAY_SETTING} to the one whose clients should reach the split (NAMESPACE/NAME).`,
    );
  return {
    none: input.gateways.length
      ? `no Gateway admits HTTPRoutes from the namespace ${namespace}`
      : 'the cluster has no Gateway',
  };
}

const Condition = v.object({
  type: v.string(),
  status: v.picklist(['True', 'False', 'Unknown']),
  reason: v.optional(v.string(), ''),
  message: v.optional(v.string(), ''),
});

const ParentRef = v.object({ name: v.string(), namespace: v.optional(v.string()) });

/** An HTTPRoute's parents and the status a controller wrote for each (conditions per parent). */
const RouteSchema = v.object({
  spec: v.object({ parentRefs: v.pipe(v.array(ParentRef), v.minLength(1)) }),
  status: v.optional(
    v.object({
      parents: v.optional(
        v.array(
          v.object({
            parentRef: ParentRef,
            controllerName: v.optional(v.string(), ''),
            conditions: v.optional(v.array(Condition), []),
          }),
        ),
        [],
      ),
    }),
  ),
});

/**
 * What the controller of the route's Gateway says of it (Accepted, ResolvedRefs). Both are null
 * until a controller has reported on the route; undefined when the object is not a route with a
 * parent (someone edited it).
 */
export function routeStatus(route: unknown, routeNamespace: string): RouteStatus | undefined {
  const parsed = v.safeParse(RouteSchema, route);
  if (!parsed.success) return undefined;
  const ref = parsed.output.spec.parentRefs[0]!;
  const gateway = { namespace: ref.namespace ?? routeNamespace, name: ref.name };
  const parent = parsed.output.status?.parents.find(
    (candidate) =>
      candidate.parentRef.name === gateway.name &&
      (candidate.parentRef.namespace ?? routeNamespace) === gateway.namespace,
  );
  const condition = (type: string) => parent?.conditions.find((candidate) => candidate.type === type);
  const accepted = condition('Accepted');
  const resolvedRefs = condition('ResolvedRefs');
  const state = (found: typeof accepted) => (found && found.status !== 'Unknown' ? found.status === 'True' : null);
  const problems = [accepted, resolvedRefs].flatMap((found) =>
    found && found.status !== 'True'
      ? [
          `${found.type} ${found.status}${found.reason ? ` (${found.reason})` : ''}${found.message ? `: ${found.message}` : ''}`,
        ]
      : [],
  );
  const controller = parent?.controllerName || 'its controller';
  const message = !parent
    ? `no controller of ${gatewayText(gateway)} has reported on the route yet`
    : problems.length
      ? `${controller} reports ${problems.join('; ')}`
      : !accepted || !resolvedRefs
        ? `${controller} has not reported ${!accepted ? 'Accepted' : 'ResolvedRefs'} yet`
        : `accepted by ${controller}, its backends resolved`;
  return { gateway: gatewayText(gateway), accepted: state(accepted), resolvedRefs: state(resolvedRefs), message };
}
