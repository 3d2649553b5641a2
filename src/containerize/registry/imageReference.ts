// Image references as Docker reads them ([domain/]repository[:tag][@digest]), and the name an
// image gets in the registry it is pushed to.
import { MlopsError } from '../../shared/errors';

export interface ImageReference {
  /** The registry part (`127.0.0.1:5000`, `ghcr.io`), when the name has one. */
  domain?: string;
  /** `mlops/churn` */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` */
  digest?: string;
}

const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,}$/;
const HOST_LABEL = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*(?::\\d+)?$`);
const IMAGE_ID = /^sha256:[a-f0-9]{64}$/;

/** Splits a reference the way Docker does: the first component is a registry when it has a `.` or `:`, or is `localhost`. */
export function parseImageReference(image: string): ImageReference {
  if (IMAGE_ID.test(image)) {
    throw new MlopsError(
      `${image} is an image ID; a push needs a name with a tag.`,
      `Tag it first: docker tag ${image} NAME:TAG.`,
    );
  }
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let domain: string | undefined;
  const slash = rest.indexOf('/');
  const first = rest.slice(0, slash);
  if (slash > 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const valid =
    REPOSITORY.test(rest) &&
    (domain === undefined || DOMAIN.test(domain)) &&
    (tag === undefined || TAG.test(tag)) &&
    (digest === undefined || DIGEST.test(digest));
  if (!valid) {
    throw new MlopsError(
      `'${image}' is not an image reference like mlops/churn:1.0.`,
      'Repositories are lower-case letters, digits and . _ - separated by /; tags are letters, digits and . _ - (up to 128).',
    );
  }
  return { ...(domain ? { domain } : {}), repository: rest, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A registry setting as `host[:port][/namespace]`, without a scheme or trailing slash. */
export function normalizeRegistry(registry: string): string {
  const trimmed = registry
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/+$/, '');
  const [host = '', ...path] = trimmed.split('/');
  if (!DOMAIN.test(host) || (path.length > 0 && !REPOSITORY.test(path.join('/')))) {
    throw new MlopsError(
      `Registry '${registry}' is not HOST[:PORT], optionally followed by /NAMESPACE.`,
      'Set mlops.registry (or --registry) to something like registry.example.com:5000 or 127.0.0.1:5000.',
    );
  }
  return trimmed;
}

/** The host[:port] of a registry setting, which credentials and messages name. */
export function registryHost(registry: string): string {
  return normalizeRegistry(registry).split('/')[0]!;
}

/**
 * The name an image gets in a registry: `mlops/churn:abc` + `127.0.0.1:5000` gives
 * `127.0.0.1:5000/mlops/churn:abc`. A name from another registry keeps its repository path; the tag
 * is kept (`latest` when absent). A digest-only reference has no tag to push under, so it is refused.
 */
export function registryReference(image: string, registry: string): string {
  const target = normalizeRegistry(registry);
  const reference = parseImageReference(image);
  if (reference.digest && !reference.tag) {
    throw new MlopsError(
      `${image} names an image by digest only; a push needs a tag.`,
      `Tag it first: docker tag ${image} NAME:TAG.`,
    );
  }
  const fullName = reference.domain ? `${reference.domain}/${reference.repository}` : reference.repository;
  const repository = fullName.startsWith(`${target}/`) ? fullName.slice(target.length + 1) : reference.repository;
  return `${target}/${repository}:${reference.tag ?? 'latest'}`;
}
