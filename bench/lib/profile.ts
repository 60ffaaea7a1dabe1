import fs from "node:fs";
import type { ProfileSummary } from "./report";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A span of the monotonic clock, in microseconds: V8 stamps profiles with it, as process.hrtime reads it. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

const IDLE = "(idle)";
const GC = "(garbage collector)";

/** node_modules/<package>, src/<folder> of the project, node:<internal>, or the bare frame name. */
function moduleOf(frame: CpuProfileNode["callFrame"]): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(url);
  if (packageMatch && !url.includes("node_modules/.cache/")) return packageMatch[1]!;
  const project = /\/(src\/[^/]+|bench\/[^/]+)\//.exec(url);
  if (project) return project[1]!;
  if (url.startsWith("node:")) return "node (internals)";
  return url;
}

/** The gateway's own code: src/, compiled into the bench's build folder or run from source. */
function isProjectFile(url: string): boolean {
  const path = url.replace(/^.*\/node_modules\/\.cache\/ringfence-bench\//, "/");
  return path.includes("/src/") && !path.includes("/node_modules/");
}

/** Where a frame is, short: the path from node_modules/ or src/ on, with its 1-based line. */
function locationOf(frame: CpuProfileNode["callFrame"]): string {
  if (!frame.url) return "";
  const short = frame.url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\/\.cache\/ringfence-bench\//, "")
    .replace(/^.*\/node_modules\//, "");
  return `${short}:${frame.lineNumber + 1}`;
}

/**
 * Self time per function and per module from a V8 .cpuprofile: each sample's time delta is
 * charged to the frame on top of the stack, as DevTools' bottom-up view does.
 */
export function summarizeProfile(file: string, scenario: string, window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const selfByNode = new Map<number, number>();
  let totalUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    const delta = Math.max(0, profile.timeDeltas[index] ?? 0);
    at += delta;
    // Start-up and seeding are not the path under study: only samples inside the measured window count.
    if (window && (at < window.fromUs || at > window.toUs)) return;
    totalUs += delta;
    selfByNode.set(nodeId, (selfByNode.get(nodeId) ?? 0) + delta);
  });
  const byFunction = new Map<string, { functionName: string; location: string; us: number }>();
  const byModule = new Map<string, number>();
  let idleUs = 0;
  let gcUs = 0;
  for (const [nodeId, us] of selfByNode) {
    const frame = nodes.get(nodeId)!.callFrame;
    if (frame.functionName === IDLE) {
      idleUs += us;
      continue;
    }
    if (frame.functionName === GC) gcUs += us;
    const location = locationOf(frame);
    const key = `${frame.functionName}@${location}`;
    const entry = byFunction.get(key) ?? { functionName: frame.functionName || "(anonymous)", location, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const module = moduleOf(frame);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  // Inclusive time of the project's own functions: which of its paths the busy time runs under.
  const inclusive = new Map<string, { functionName: string; location: string; us: number }>();
  for (const [nodeId, us] of selfByNode) {
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parents.get(id)) {
      const frame = nodes.get(id)!.callFrame;
      if (frame.functionName === IDLE || !isProjectFile(frame.url)) continue;
      const location = locationOf(frame);
      const key = `${frame.functionName}@${location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { functionName: frame.functionName || "(anonymous)", location, us: 0 };
      entry.us += us;
      inclusive.set(key, entry);
    }
  }
  const percentOfBusy = (us: number) => (us / busyUs) * 100;
  return {
    scenario,
    file,
    windowed: window !== undefined,
    sampledMs: totalUs / 1000,
    idlePercent: (idleUs / Math.max(1, totalUs)) * 100,
    garbageCollectionPercent: percentOfBusy(gcUs),
    // Percentages are of the time the process was busy, so idle waiting does not dilute them.
    topSelf: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 25)
      .map((entry) => ({
        functionName: entry.functionName,
        location: entry.location,
        selfMs: entry.us / 1000,
        selfPercent: percentOfBusy(entry.us),
      })),
    topInclusiveProject: [...inclusive.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 25)
      .map((entry) => ({
        functionName: entry.functionName,
        location: entry.location,
        selfMs: entry.us / 1000,
        selfPercent: percentOfBusy(entry.us),
      })),
    byModule: [...byModule.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 20)
      .map(([module, us]) => ({ module, selfMs: us / 1000, selfPercent: percentOfBusy(us) })),
  };
}
