// The real image registry in tests: Debian's docker-registry, installed when it can be, beside the
// Docker Engine that pushes to it. Each answer says why when it cannot be had, for needService().
import { ensureRegistryPackages } from '../../scripts/lib/registry.mjs';
import { dockerAvailable, type Availability } from './docker';

let registry: Promise<Availability> | undefined;

/** Whether a registry can be started and an engine answers to push to it (checked once per process). */
export function registryAvailable(): Promise<Availability> {
  registry ??= dockerAvailable().then((engine) => {
    if (!engine.ok) return engine;
    const packages = ensureRegistryPackages();
    return packages.ok ? { ok: true, reason: '' } : { ok: false, reason: `no image registry: ${packages.reason}` };
  });
  return registry;
}
