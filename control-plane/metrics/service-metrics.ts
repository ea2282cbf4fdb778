import type { RelayStats } from '../relay/relay.ts';
import { Counter, Histogram, type Metric, Observed } from './exposition.ts';

/** Upper bounds of the request latency buckets, in seconds. */
const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * What the control plane counts for its operators (README, "Metrics"). Only what no other part
 * holds lives here; the relay's figures are read from `Relay.stats()` when scraped.
 */
export class ServiceMetrics {
  /** Connection code redemptions (operators' and agents'), by result: `redeemed` or `refused`. */
  readonly codeRedemptions = new Counter(
    'lifeline_code_redemptions_total',
    'Connection code redemptions checked against a session, by result (redeemed or refused).',
  );
  /** Requests refused with 429 TOO_FREQUENT, by route pattern. */
  readonly throttleHits = new Counter(
    'lifeline_throttle_refusals_total',
    'HTTP requests refused with 429 TOO_FREQUENT by a throttle, by method and route pattern.',
  );
  /** Request latency by method, route pattern and status class. */
  readonly requestDuration = new Histogram(
    'lifeline_http_request_duration_seconds',
    'Time to answer an HTTP request, by method and route pattern, in seconds.',
    LATENCY_BUCKETS_S,
  );

  /** Every metric family, the relay's read from `relay` now. */
  families(relay: RelayStats): Metric[] {
    const observed = (name: string, help: string, type: 'gauge' | 'counter', value: number) =>
      new Observed(name, help, type, () => value);
    return [
      observed('lifeline_live_sessions', 'Sessions held by the relay of this node.', 'gauge', relay.sessions),
      observed(
        'lifeline_connected_agents',
        'Agents connected to the relay of this node.',
        'gauge',
        relay.agents,
      ),
      observed(
        'lifeline_connected_operators',
        'Operator connections (consoles and API participants) on the relay of this node.',
        'gauge',
        relay.operators,
      ),
      observed(
        'lifeline_relay_received_bytes_total',
        'Bytes received by the relay from agents and operators.',
        'counter',
        relay.receivedBytes,
      ),
      observed(
        'lifeline_relay_dropped_video_frames_total',
        'Video frames dropped for operators that could not keep up.',
        'counter',
        relay.droppedVideoFrames,
      ),
      observed(
        'lifeline_relay_malformed_frames_total',
        'Frames that did not decode, dropped.',
        'counter',
        relay.malformedFrames,
      ),
      observed(
        'lifeline_relay_refused_frames_total',
        'File and shell frames dropped because the end user did not allow them.',
        'counter',
        relay.refusedFrames,
      ),
      observed(
        'lifeline_relay_out_of_state_messages_total',
        'Messages that did not fit the state of their session, dropped.',
        'counter',
        relay.outOfStateMessages,
      ),
      observed(
        'lifeline_relay_dropped_input_events_total',
        'Input events dropped because their operator did not hold control.',
        'counter',
        relay.droppedInputEvents,
      ),
      observed(
        'lifeline_relay_over_budget_messages_total',
        'Messages dropped because their connection passed its write budget.',
        'counter',
        relay.overBudgetMessages,
      ),
      observed(
        'lifeline_relay_flood_closures_total',
        'Relay connections closed for flooding.',
        'counter',
        relay.floodClosures,
      ),
      this.codeRedemptions,
      this.throttleHits,
      this.requestDuration,
    ];
  }
}
