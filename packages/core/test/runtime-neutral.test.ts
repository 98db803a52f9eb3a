/** The core stays runtime-neutral: no Node built-ins imported, and it works with node:crypto hidden. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';

const src = new URL('../src/', import.meta.url).pathname;
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );

test('no source file imports a Node built-in or uses Buffer', () => {
  for (const file of files(src)) {
    const text = readFileSync(file, 'utf8');
    expect(text, file).not.toMatch(/from ['"](node:|fs|path|crypto|stream)/);
    expect(text, file).not.toMatch(/\bBuffer\./);
  }
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.resetModules();
});

test('without process.getBuiltinModule (a browser), the default backend is WebCrypto and round trips work', async () => {
  // A browser: no built-in modules, and no environment (so no SEALSTREAM_BACKEND either).
  vi.stubGlobal('process', { ...process, env: {}, getBuiltinModule: undefined });
  vi.resetModules();
  const core = await import('../src/index.ts');
  expect(core.resolveBackend().name).toBe('webcrypto');
  const key = core.generateKey();
  const sealed = await core.encrypt(new Uint8Array([1, 2, 3]), {
    recipients: [key, { passphrase: 'p', workFactor: 10 }],
  });
  expect(await core.decrypt(sealed, { keys: [{ passphrase: 'p' }] })).toEqual(new Uint8Array([1, 2, 3]));
  await expect(core.encrypt(new Uint8Array(1), { recipients: [key], backend: 'node' })).rejects.toMatchObject(
    {
      code: 'BACKEND_UNAVAILABLE',
    },
  );
});
