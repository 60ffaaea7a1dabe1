/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  setupFiles: ["reflect-metadata"],
  testTimeout: 30000,
  maxWorkers: 2,
  // Every test file loads the whole gateway afresh in its own module registry, so a worker that
  // ran thirty of them held over 1 GB, and tearing that down after its last file took longer
  // than Jest's 500 ms (it reported "a worker process has failed to exit gracefully", though
  // no handle was left open and both workers reached 'exit'). Workers past 600 MB are replaced
  // between files, and their exit is given the time a large heap needs.
  workerIdleMemoryLimit: "600MB",
  workerGracefulExitTimeout: 5000,
};
