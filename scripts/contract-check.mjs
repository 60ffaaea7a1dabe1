#!/usr/bin/env node
// Holds schema/schema.graphql against ../shared/contract with the contract's own checker.
// The parts of the contract not built yet are listed, one BREAKING line each, in
// schema/contract-pending.txt: the check fails on any breaking change not listed there, and on
// a listed one that is no longer breaking (so the list only ever shrinks, and ends empty).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const result = spawnSync(process.execPath, ["../shared/contract/check.mjs", "schema/schema.graphql"], { encoding: "utf8" });
if (result.error || (result.status !== 0 && result.status !== 1)) {
  console.error(result.stderr || result.error?.message);
  process.exit(2);
}
const breaking = result.stdout.split("\n").filter((line) => line.startsWith("BREAKING: "));
const pendingFile = "schema/contract-pending.txt";
const pending = existsSync(pendingFile)
  ? readFileSync(pendingFile, "utf8").split("\n").filter((line) => line.startsWith("BREAKING: "))
  : [];
const unexpected = breaking.filter((line) => !pending.includes(line));
let stale = pending.filter((line) => !breaking.includes(line));
// --prune drops what has been built; it never adds a line, so nothing new can be excused.
if (process.argv.includes("--prune") && stale.length) {
  const header = readFileSync(pendingFile, "utf8").split("\n").filter((line) => line.startsWith("#"));
  writeFileSync(pendingFile, [...header, ...pending.filter((line) => breaking.includes(line)), ""].join("\n"));
  console.log(`pruned ${stale.length} built part(s) from ${pendingFile}`);
  stale = [];
}
for (const line of unexpected) console.log(`not allowed: ${line}`);
for (const line of stale) console.log(`built now, remove from ${pendingFile}: ${line}`);
console.log(`${breaking.length} part(s) of the contract pending, ${unexpected.length} unexpected, ${stale.length} stale`);
process.exit(unexpected.length || stale.length ? 1 : 0);
