// The image of a deployment's proxy on users' machines: the official HAProxy 2.6 image (2.6.34, with
// Lua and the Prometheus exporter, running as a non-root user), pinned by the digest of its index of
// platforms; the setting mlops.proxyImage overrides it.
export const DEFAULT_PROXY_IMAGE =
  'haproxy:2.6@sha256:27d5ea8c22a63b2f072974b3d15e34816ee7f19fa68d13e37ec1d69e2a5df8d1';
