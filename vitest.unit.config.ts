import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: every test that needs no service (no database server, broker, Keystone,
 * Python package or browser) — the pure rules, parsers, policy, views, drivers against their
 * fakes, and the architecture checks. Runs in well under a minute on a laptop.
 */
export default defineConfig({
  test: {
    include: [
      'test/domain/**/*.test.ts',
      'test/policy/**/*.test.ts',
      'test/config/**/*.test.ts',
      'test/architecture/**/*.test.ts',
      'test/api/views.test.ts',
      'test/bench/bench.test.ts',
      'test/cli/heap-flags.test.ts',
      'test/drivers/bus/notifier.test.ts',
      'test/drivers/blazar-client.test.ts',
      'test/drivers/lease-simulator.test.ts',
      'test/drivers/nova-taynac.test.ts',
      'test/drivers/user-messages.test.ts',
    ],
    testTimeout: 30_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
