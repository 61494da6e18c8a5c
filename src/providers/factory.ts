// Builds the configured bookmaker providers (HTTP adapters of the reference protocol).
import type { Config } from '../config.js';
import { resolveCredentials, type ProviderCredentials } from '../credentials.js';
import { HttpProvider } from './http.js';
import type { Provider } from './provider.js';

/**
 * One HttpProvider per configured bookmaker. `credentials` are the keys read at start-up (src/credentials.ts);
 * by default they are read now from this process's environment and the files the config references.
 */
export function providersFromConfig(config: Config, credentials: ProviderCredentials = resolveCredentials(config)): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const [name, p] of Object.entries(config.providers)) {
    const keys = credentials.get(name);
    // A configured key that was not read would send every request without it: a bug, not a bookmaker's answer.
    if ((p.credentials !== undefined) !== (keys?.apiKey !== undefined)) throw new Error(`provider ${name}: credentials configured but not resolved, or resolved but not configured`);
    providers.set(name, new HttpProvider({ name, url: p.url, requestTimeoutMs: p.requestTimeoutMs ?? config.providerTimeoutMs, connections: p.connections, credentials: keys }));
  }
  return providers;
}

export async function closeProviders(providers: Map<string, Provider>): Promise<void> {
  await Promise.all([...providers.values()].map((p) => p.close()));
}
