// A SecretStore kept in memory, standing in for VS Code's SecretStorage in unit tests.
import type { SecretStore } from '../../src/shared/hostSecrets';

export class MemorySecrets implements SecretStore {
  readonly values = new Map<string, string>();
  async get(key: string) {
    return this.values.get(key);
  }
  async store(key: string, value: string) {
    this.values.set(key, value);
  }
  async delete(key: string) {
    this.values.delete(key);
  }
}
