/** The shape every bench/scenarios/*.ts module exports, and what run.ts hands it. */
import type { Section } from './report.js';

export type Context = {
  /** Measurements per figure for the headline scenarios (`--rounds`, default 5); medians reported. */
  rounds: number;
  /** Seconds per throughput measurement (`--duration`), in ms. */
  durationMs: number;
  /** `--quick`: a short smoke run at reduced scale; figures are not comparable with the targets. */
  quick: boolean;
  /** `--load-streams` / `--load-seconds`: streams open at once and their length in the paced-load scenario. */
  loadStreams?: number;
  loadSeconds?: number;
};

export type Scenario = {
  id: string;
  /** One line for `--help`. */
  about: string;
  run(ctx: Context): Promise<Section>;
};
