// A deployment's data token: the secret that the model servers and the router ask for on the
// endpoints that give out or change data (GET /requests, POST /feedback,
// /router/backends/requests). Created at the first deploy and kept by the orchestrator (a Swarm
// secret, a Kubernetes Secret); runtime/mlops_runtime/data_access.py checks it.
import { randomBytes } from 'node:crypto';
import { MlopsError } from '../../shared/errors';

/** The header our clients send it in (the Kubernetes API server's pod proxy keeps Authorization for itself). */
export const DATA_TOKEN_HEADER = 'X-Mlops-Token';

/** 32 random bytes, base64url: 43 characters that fit a header and a shell argument. */
export function newDataToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token read back from the orchestrator, checked as the model server checks it. */
export function checkedDataToken(text: string, where: string): string {
  const token = text.trim();
  if (!/^[\x21-\x7e]{16,512}$/.test(token)) {
    throw new MlopsError(
      `The data token in ${where} is not 16 to 512 printable characters without spaces.`,
      "Remove the deployment's token and deploy again to make a new one.",
    );
  }
  return token;
}
