import { defineConfig } from 'vitest/config';

/** Tests that need no server: `pnpm test:unit` runs them alone, fast, anywhere. */
const unit = [
  'packages/core/test/**/*.test.ts',
  'packages/sos/test/key-map.test.ts',
  'packages/sos/test/range.test.ts',
  'packages/sos/test/entry-edges.test.ts',
  'packages/sos/test/parts.test.ts',
];

// `sealstream-src` resolves workspace packages to their TypeScript sources, so tests need no build.
// Vitest runs tests in Vite's server (SSR) environment, which needs the condition too.
export default defineConfig({
  resolve: { conditions: ['sealstream-src'] },
  ssr: { resolve: { conditions: ['sealstream-src'] } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // `pnpm test` runs every project; `pnpm test:unit`, `pnpm test:integration` and `pnpm test:browser` one each.
    projects: [
      { extends: true, test: { name: 'unit', include: unit } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
          exclude: unit,
          // Starts (or reuses) the local Ceph RGW over TLS; fails, never skips, without it.
          globalSetup: ['packages/sos/test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          // Debian's Chromium through playwright-core; the presigned tests also need the S3 server.
          include: ['browser/test/**/*.test.ts'],
          globalSetup: ['packages/sos/test/global-setup.ts'],
        },
      },
    ],
  },
});
