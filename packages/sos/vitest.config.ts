// Runs this package's tests alone, with the S3 server: pnpm vitest run --config packages/sos/vitest.config.ts
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // tests run in Vite's server (ssr) environment, which takes its own conditions list
  resolve: { conditions: ['sealstream-src'] },
  ssr: { resolve: { conditions: ['sealstream-src'] } },
  test: {
    root: import.meta.dirname,
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
