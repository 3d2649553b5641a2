// A test whose service cannot be started is skipped locally, saying why; with
// MLOPS_REQUIRE_SERVICES=1 (as in CI) it fails instead, so nothing is skipped silently.
import type { TestContext } from 'node:test';

export const servicesRequired = process.env.MLOPS_REQUIRE_SERVICES === '1';

/**
 * Returns true when the test should go on. Otherwise skips it with the reason, or throws when
 * services are required.
 */
export function needService(t: TestContext, available: boolean, reason: string): boolean {
  if (available) return true;
  if (servicesRequired) throw new Error(`MLOPS_REQUIRE_SERVICES=1 but ${reason}`);
  t.skip(reason);
  return false;
}
