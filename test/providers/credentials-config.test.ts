// Bookmaker credentials in the config and at start-up: references only, read once, errors that never show a secret.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { ConfigError, parseConfig } from '../../src/config.js';
import { readSecretFile, resolveCredentials, Secret, secretLengthMax } from '../../src/credentials.js';
import { createLogger } from '../../src/infra/log.js';
import { providersFromConfig } from '../../src/providers/factory.js';

const secret = 'sk-live-0123456789abcdef';
const url = 'http://127.0.0.1:9';

function configError(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('the config was accepted');
}

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'be-cred-')), name);
  writeFileSync(file, text);
  return file;
}

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/bet-executor.mjs', ...args], { env: { ...process.env, ...env } }, (error, _stdout, stderr) => {
      resolve({ code: (error as { code?: number } | null)?.code ?? 0, stderr });
    });
  });
}

describe('providers.<name>.credentials in the config', () => {
  it('accepts an env or a file reference, per provider and per account', () => {
    const config = parseConfig({
      providers: {
        bookA: { url, credentials: { env: 'BOOKA_API_KEY' }, accounts: { 'acc-7': { credentials: { file: '/run/secrets/acc7' } } } },
        bookB: { url, credentials: { file: '/run/secrets/bookb' } },
        bookC: { url },
      },
    });
    assert.deepEqual(config.providers.bookA?.credentials, { env: 'BOOKA_API_KEY' });
    assert.deepEqual(config.providers.bookA?.accounts?.['acc-7'], { credentials: { file: '/run/secrets/acc7' } });
    assert.equal(config.providers.bookC?.credentials, undefined);
  });

  const inline: [string, Record<string, unknown>, RegExp][] = [
    ['a string as credentials', { url, credentials: secret }, /providers\.bookA\.credentials: a secret is referenced/],
    ['an apiKey inside credentials', { url, credentials: { apiKey: secret } }, /providers\.bookA\.credentials: Unrecognized key\(s\) "apiKey": inline secrets are refused/],
    ['an apiKey beside the url', { url, apiKey: secret }, /providers\.bookA: Unrecognized key\(s\) "apiKey": inline secrets are refused; use "credentials"/],
    ['a token beside the url', { url, token: secret }, /providers\.bookA: Unrecognized key\(s\) "token": inline secrets/],
    ['a secret beside the url', { url, secret }, /providers\.bookA: Unrecognized key\(s\) "secret": inline secrets/],
    ['a string as an account’s credentials', { url, credentials: { env: 'K' }, accounts: { a1: { credentials: secret } } }, /providers\.bookA\.accounts\.a1\.credentials: a secret is referenced/],
    ['an apiKey on an account', { url, credentials: { env: 'K' }, accounts: { a1: { apiKey: secret } } }, /providers\.bookA\.accounts\.a1: Unrecognized key\(s\) "apiKey": inline secrets/],
  ];
  for (const [what, provider, message] of inline) {
    it(`refuses ${what}, pointing to env/file references and never repeating the value`, () => {
      const error = configError({ providers: { bookA: provider } });
      assert.match(error, message);
      assert.match(error, /\{ "env": "VAR_NAME" \} or \{ "file": "\/absolute\/path" \}/);
      assert.ok(!error.includes(secret), error);
    });
  }

  it('refuses a reference that is not exactly one env name or one absolute path', () => {
    assert.match(configError({ providers: { bookA: { url, credentials: {} } } }), /exactly one of "env" or "file"/);
    assert.match(configError({ providers: { bookA: { url, credentials: { env: 'A', file: '/b' } } } }), /exactly one of "env" or "file"/);
    assert.match(configError({ providers: { bookA: { url, credentials: { env: 'no-dashes' } } } }), /credentials\.env: an environment variable name/);
    assert.match(configError({ providers: { bookA: { url, credentials: { file: 'relative/key' } } } }), /credentials\.file: an absolute path/);
  });

  it('leaves other unknown keys with the plain message', () => {
    const error = configError({ providers: { bookA: { url, colour: 'red' } } });
    assert.match(error, /Unrecognized key\(s\) "colour"$/m);
  });

  const urls: [string, string][] = [
    ['a user and password', `http://bob:${secret}@127.0.0.1:9`],
    ['a user alone', `http://${secret}@127.0.0.1:9`],
    ['a query key', `http://127.0.0.1:9/api?key=${secret}`],
    ['an empty-looking query', `http://127.0.0.1:9/api?${secret}`],
    ['a fragment', `http://127.0.0.1:9/api#${secret}`],
  ];
  for (const [what, badUrl] of urls) {
    it(`refuses a url with ${what}, pointing to credentials, without repeating the url`, () => {
      const error = configError({ providers: { bookA: { url: badUrl } } });
      assert.match(error, /providers\.bookA\.url: a URL with a user:password@, a \?query or a #fragment is refused/);
      assert.match(error, /"credentials"/);
      assert.ok(!error.includes(secret), error);
    });
  }

  it('refuses account keys without a provider key (lookups take it), and two account ids equal but for case', () => {
    assert.match(configError({ providers: { bookA: { url, accounts: { a1: { credentials: { env: 'K1' } } } } } }), /providers\.bookA\.credentials: required when accounts have keys of their own/);
    const twice = configError({ providers: { bookA: { url, credentials: { env: 'K' }, accounts: { 'Acc-1': { credentials: { env: 'K1' } }, 'acc-1': { credentials: { env: 'K2' } } } } } });
    assert.match(twice, /providers\.bookA\.accounts\.acc-1: same account as "Acc-1"/);
    assert.match(configError({ providers: { bookA: { url, credentials: { env: 'K' }, accounts: { 'a:b': { credentials: { env: 'K1' } } } } } }), /account ids are/);
  });
});

describe('resolveCredentials (start-up)', () => {
  const config = parseConfig({
    providers: {
      bookA: { url, credentials: { env: 'T_BOOKA_KEY' }, accounts: { 'Acc-VIP': { credentials: { file: '/secrets/vip' } } } },
      bookB: { url },
    },
  });

  it('reads env variables and files (trimmed) into keys outside the config, accounts by lower-case id', () => {
    const files: Record<string, string> = { '/secrets/vip': '  vip-key-1\n' };
    const resolved = resolveCredentials(config, { T_BOOKA_KEY: 'booka-key-1' }, (path) => files[path] ?? '');
    assert.equal(resolved.get('bookA')?.apiKey?.reveal(), 'booka-key-1');
    assert.equal(resolved.get('bookA')?.accounts.get('acc-vip')?.reveal(), 'vip-key-1');
    assert.equal(resolved.has('bookB'), false, 'a provider without credentials sends none');
    assert.ok(!JSON.stringify(config).includes('booka-key-1'), 'the config keeps only the reference');
  });

  it('reports every unreadable reference at once, naming the variable or file and never a value', () => {
    const error = (() => {
      try {
        resolveCredentials(config, { T_BOOKA_KEY: '' }, () => {
          throw Object.assign(new Error(`EACCES: permission denied, open '/secrets/vip' ${secret}`), { code: 'EACCES' });
        });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /providers\.bookA\.credentials: environment variable T_BOOKA_KEY is not set or empty/);
    assert.match(error.message, /providers\.bookA\.accounts\.Acc-VIP\.credentials: cannot read file \/secrets\/vip \(EACCES\)/);
    assert.ok(!error.message.includes(secret));
  });

  const badValues: [string, string, RegExp][] = [
    ['only whitespace', ' \n ', /holds an empty secret/],
    ['a space inside', `${secret} ${secret}`, /characters an HTTP header cannot carry/],
    ['a newline inside', `${secret}\n${secret}`, /characters an HTTP header cannot carry/],
    ['a non-ASCII character', `${secret}é`, /characters an HTTP header cannot carry/],
    ['too many characters', secret.repeat(400), new RegExp(`more than secretLengthMax \\(${secretLengthMax}\\)`)],
  ];
  for (const [what, value, message] of badValues) {
    it(`refuses a key with ${what}, without showing it`, () => {
      assert.throws(() => resolveCredentials(config, { T_BOOKA_KEY: value }, () => 'vip'), (error: Error) => {
        assert.match(error.message, /providers\.bookA\.credentials: env T_BOOKA_KEY /);
        assert.match(error.message, message);
        assert.ok(!error.message.includes(secret), error.message);
        return true;
      });
    });
  }

  it('reads no more of a file than a key can be', () => {
    const file = tempFile('huge', 'k'.repeat(1_000_000));
    assert.equal(readSecretFile(file).length, secretLengthMax + 2);
    assert.equal(readSecretFile(tempFile('key', 'abc\n')), 'abc\n');
  });

  it('is needed before providers are built: a configured key that was not resolved is a bug', () => {
    assert.throws(() => providersFromConfig(config, new Map()), /provider bookA: credentials configured but not resolved/);
  });
});

describe('a Secret', () => {
  it('prints as [redacted] through every way a value reaches a log or a message', () => {
    const key = new Secret(secret);
    const shown = [String(key), `${key}`, JSON.stringify({ key }), inspect({ key }), inspect(key, { showHidden: true, depth: 5 })];
    for (const text of shown) assert.ok(!text.includes(secret) && text.includes('[redacted]'), text);
    assert.equal(key.reveal(), secret);
  });
});

describe('the service logger', () => {
  it('censors authorization headers, apiKey, token and credentials fields, and prints Secrets as [redacted]', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const log = createLogger('t', 'debug', sink);
    log.debug({ headers: { authorization: `Bearer ${secret}` }, apiKey: secret, token: secret, password: secret }, 'top level');
    log.debug({ req: { headers: { authorization: `Bearer ${secret}` } }, provider: { apiKey: secret, credentials: { env: 'X' } } }, 'nested');
    log.debug({ request: { options: { headers: { authorization: secret } } } }, 'deeper');
    log.debug({ credentials: new Map([['bookA', { apiKey: new Secret(secret) }]]), key: new Secret(secret) }, 'secret objects');
    log.error({ err: new Error('request failed'), authorization: secret }, 'error');
    assert.equal(lines.length, 5);
    for (const line of lines) assert.ok(!line.includes(secret), line);
    assert.match(lines[0] ?? '', /"authorization":"\[redacted\]"/);
  });
});

describe('bet-executor worker with credentials (exit 2, never the secret)', () => {
  it('stops when a referenced variable is missing, naming it', async () => {
    const file = tempFile('config.json', JSON.stringify({ providers: { bookA: { url, credentials: { env: 'T_MISSING_KEY' } } } }));
    const r = await cli(['worker', '--config', file], { T_MISSING_KEY: '' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bookmaker credentials:\n {2}providers\.bookA\.credentials: environment variable T_MISSING_KEY is not set or empty/);
  });

  it('stops on an unreadable key file, naming it', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'be-cred-')), 'key.gone');
    const file = tempFile('config.json', JSON.stringify({ providers: { bookA: { url, credentials: { file: keyFile } } } }));
    const r = await cli(['worker', '--config', file]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot read file .*key\.gone \(ENOENT\)/);
  });

  const refused: [string, string][] = [
    ['an inline apiKey', JSON.stringify({ providers: { bookA: { url, apiKey: secret } } })],
    ['a url with a password', JSON.stringify({ providers: { bookA: { url: `http://u:${secret}@127.0.0.1:9` } } })],
    ['a url with ?key=', JSON.stringify({ providers: { bookA: { url: `http://127.0.0.1:9/?key=${secret}` } } })],
    ['a file that is not JSON near a pasted key', `{ "providers": { "bookA": { "url": "${url}", "apiKey": ${secret} } } }`],
  ];
  for (const [what, text] of refused) {
    it(`refuses ${what} with the message, no stack trace and no secret`, async () => {
      const r = await cli(['worker', '--config', tempFile('config.json', text)]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^bet-executor: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.ok(!r.stderr.includes(secret.slice(0, 6)), r.stderr);
    });
  }
});
