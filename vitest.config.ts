import { defineConfig } from 'vitest/config';

// `sealstream-src` resolves workspace packages to their TypeScript sources, so tests need no build.
// Vitest runs tests in Vite's server (SSR) environment, which needs the condition too.
export default defineConfig({
  resolve: { conditions: ['sealstream-src'] },
  ssr: { resolve: { conditions: ['sealstream-src'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'browser/test/**/*.test.ts'],
    // Starts (or reuses) the local Ceph RGW over TLS for the transport tests; fails, never skips, without it.
    globalSetup: ['packages/sos/test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
