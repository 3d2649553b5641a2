// The image of a deployment's proxy on users' machines: the official HAProxy image (the setting
// mlops.proxyImage overrides it). A tag, not a digest: no digest of it was found to pin.
export const DEFAULT_PROXY_IMAGE = 'haproxy:2.6';
