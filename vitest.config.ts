import { defineConfig } from "vitest/config";

// One config, four suites. `npm test` runs unit + integration (after `tsc --noEmit`);
// the browser end-to-end and network-emulation suites get their own scripts as they land.
export default defineConfig({
  test: {
    reporters: ["default", "./tests/summary-reporter.ts"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["{encoder,sfu,client,devibench}/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["tests/integration/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          // Integration tests run real ffmpeg processes; on a 2-core machine, running files one at a
          // time keeps each test's encoder from starving the others.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "network",
          include: ["tests/network/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
