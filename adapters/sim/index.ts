// The experiment runner of `mptcp sim` / `npm start` (runtime-neutral): path and event specs,
// the runner on the in-memory Simulator, the HTML report, the terminal views, the demo.
export * from "./spec.ts";
export * from "./runner.ts";
export { renderReport, lineChart } from "./report.ts";
export { liveLines, liveFrame, progressLine, sparkline, bar, summaryLines } from "./live.ts";
export type { LiveViewOptions } from "./live.ts";
export { demoOptions, DEMO_EVENTS, DEMO_PATHS, DEMO_SECONDS } from "./demo.ts";
export { parseSimArgs, SIM_USAGE } from "./options.ts";
export type { SimCliOptions } from "./options.ts";
