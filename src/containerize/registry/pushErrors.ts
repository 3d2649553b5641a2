// What went wrong in a push, said so that the user can act on it. The engine reports registry
// failures as text inside the push stream, so they are told apart by their wording.
import { MlopsError } from '../../shared/errors';
import type { RegistryCredentials } from './registryAuth';

export interface PushContext {
  /** The name pushed, `127.0.0.1:5000/mlops/churn:abc`. */
  reference: string;
  /** The registry's host[:port]. */
  host: string;
  credentials?: RegistryCredentials;
}

const UNREACHABLE =
  /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|handshake timeout|deadline exceeded/i;
const UNTRUSTED_TLS = /server gave HTTP response to HTTPS client|x509:|certificate/i;
const REFUSED =
  /unauthorized|authentication required|no basic auth credentials|access to the resource is denied|\b401\b/i;

export function pushFailure(engineMessage: string, context: PushContext): MlopsError {
  const { reference, host, credentials } = context;
  const message = redact(engineMessage.trim(), credentials);
  if (UNREACHABLE.test(message)) {
    return new MlopsError(
      `Registry ${host} did not answer: ${message}`,
      `Check that the registry is running and that mlops.registry names it. The Docker Engine, not only this machine, must reach ${host}.`,
    );
  }
  if (UNTRUSTED_TLS.test(message)) {
    return new MlopsError(
      `Registry ${host} does not offer TLS that the Docker Engine trusts: ${message}`,
      `Serve the registry over TLS with a trusted certificate, or list ${host} in "insecure-registries" of the engine's daemon.json (on every swarm node). Registries on 127.0.0.1 need neither.`,
    );
  }
  if (REFUSED.test(message)) {
    const setThem = `Set them with the command "MLOps: Set Registry Credentials", or run docker login ${host}.`;
    if (!credentials)
      return new MlopsError(`Registry ${host} needs credentials to push ${reference}: ${message}`, setThem);
    const who = credentials.username ? `user ${credentials.username}` : 'the identity token';
    return new MlopsError(
      `Registry ${host} refused the push for ${who}: ${message}`,
      `Check the user name and password. ${setThem}`,
    );
  }
  return new MlopsError(`Pushing ${reference} to ${host} failed: ${message}`);
}

/** The engine never echoes secrets today; this keeps it so if one ever does. */
function redact(message: string, credentials: RegistryCredentials | undefined): string {
  let redacted = message;
  for (const secret of [credentials?.password, credentials?.identitytoken])
    if (secret) redacted = redacted.split(secret).join('***');
  return redacted;
}
