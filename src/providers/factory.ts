// Builds the configured bookmaker providers (HTTP adapters of the reference protocol).
import type { Config } from '../config.js';
import { HttpProvider } from './http.js';
import type { Provider } from './provider.js';

export function providersFromConfig(config: Config): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const [name, p] of Object.entries(config.providers)) {
    providers.set(name, new HttpProvider({ name, url: p.url, requestTimeoutMs: p.requestTimeoutMs ?? config.providerTimeoutMs, connections: p.connections }));
  }
  return providers;
}

export async function closeProviders(providers: Map<string, Provider>): Promise<void> {
  await Promise.all([...providers.values()].map((p) => p.close()));
}
