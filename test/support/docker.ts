// The real Docker Engine in tests: started (and installed) when it can be, with the images the
// tests run built offline. Each answer says why when it cannot be had, for needService().
import {
  engineRequest,
  ensureBaseImage,
  ensureBusyboxImage,
  ensureDockerEngine,
  ensureProxyImage,
} from '../../scripts/lib/docker.mjs';

export interface Availability {
  ok: boolean;
  reason: string;
}

export interface TestImage extends Availability {
  /** The image's name:tag, when ok. */
  image: string;
}

let engine: Promise<Availability> | undefined;
let baseImage: Promise<TestImage> | undefined;
let busyboxImage: Promise<TestImage> | undefined;
let proxyImage: Promise<TestImage> | undefined;

/** Whether a Docker Engine answers on /var/run/docker.sock, starting it if need be (once per process). */
export function dockerAvailable(): Promise<Availability> {
  engine ??= ensureDockerEngine().then(
    (result) => (result.ok ? { ok: true, reason: '' } : { ok: false, reason: `no Docker Engine: ${result.reason}` }),
    (error: Error) => ({ ok: false, reason: `no Docker Engine: ${error.message}` }),
  );
  return engine;
}

/**
 * The Python base image (python3 with numpy, pandas and scikit-learn) for images the tests build:
 * MLOPS_TEST_BASE_IMAGE when set (it must be in the engine already: nothing can be pulled),
 * otherwise the one built offline with debootstrap (minutes once, then cached).
 */
export function testBaseImage(): Promise<TestImage> {
  baseImage ??= withEngine(async () => {
    const override = process.env.MLOPS_TEST_BASE_IMAGE;
    if (override) {
      const { status } = await engineRequest('GET', `/images/${encodeURIComponent(override)}/json`);
      if (status === 200) return { ok: true, image: override, reason: '' };
      return {
        ok: false,
        image: '',
        reason: `MLOPS_TEST_BASE_IMAGE=${override} is not in the Docker Engine (it cannot be pulled here)`,
      };
    }
    const result = await ensureBaseImage();
    return result.ok ? { ok: true, image: result.image, reason: '' } : { ok: false, image: '', reason: result.reason };
  });
  return baseImage;
}

/** A tiny busybox image (FROM scratch) for tests that need a container but no Python. */
export function testBusyboxImage(): Promise<TestImage> {
  busyboxImage ??= withEngine(async () => {
    const result = await ensureBusyboxImage();
    return result.ok ? { ok: true, image: result.image, reason: '' } : { ok: false, image: '', reason: result.reason };
  });
  return busyboxImage;
}

/** Debian's HAProxy, built offline: the proxy image the Swarm tests give as mlops.proxyImage. */
export function testProxyImage(): Promise<TestImage> {
  proxyImage ??= withEngine(async () => {
    const result = await ensureProxyImage();
    return result.ok ? { ok: true, image: result.image, reason: '' } : { ok: false, image: '', reason: result.reason };
  });
  return proxyImage;
}

async function withEngine(fn: () => Promise<TestImage>): Promise<TestImage> {
  const available = await dockerAvailable();
  if (!available.ok) return { ok: false, image: '', reason: available.reason };
  try {
    return await fn();
  } catch (error) {
    return { ok: false, image: '', reason: (error as Error).message };
  }
}
