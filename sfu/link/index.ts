/**
 * The project's link emulator, one home for tests and DeViBench: mahimahi traces, fixed rates,
 * delay, jitter, Bernoulli and Gilbert-Elliott loss, drop-tail queues. A pure core
 * (`LinkEmulator`), an in-process pipe (`LinkPipe`), a UDP relay for real peers (`UdpRelay`) and
 * the signalling proxy that puts a client's media through it (`RelayPath`).
 */
export { LinkError, type LinkErrorCode } from "./errors.ts";
export {
  type LinkConfig, type LinkRate, type LossModel, type QueueLimit, type ResolvedLinkConfig,
  resolveLinkConfig, stationaryLossRate,
} from "./config.ts";
export { firstOpportunityAfter, OPPORTUNITY_BYTES, opportunityTimeMs, parseTrace, type Trace, traceMeanKbps } from "./trace.ts";
export { isTraceName, loadTrace, TRACE_CATALOGUE, TRACE_NAMES, type TraceName } from "./trace-catalogue.ts";
export { type LinkConfigInput, parseLinkConfig, type ParseLinkConfigOptions } from "./parse-config.ts";
export {
  type DeliveredPacket, type DropReason, type LinkCounters, LinkEmulator, type LinkEmulatorOptions, type SendResult,
} from "./emulator.ts";
export { GilbertElliott, type LossProcess, makeLossProcess } from "./loss.ts";
export { type LinkTimer, realTimer, type TimerHandle, VirtualTimer } from "./timer.ts";
export { LinkPipe, type LinkPipeOptions } from "./pipe.ts";
export {
  type Endpoint, findCandidate, parseCandidate, type ParsedCandidate, type RelayRoute, rewriteCandidate,
  rewriteSdpCandidates, stripSdpCandidates,
} from "./ice-rewrite.ts";
export { type RelayCounters, UdpRelay, type UdpRelayOptions } from "./udp-relay.ts";
export { type JsonMessage, type MessageTransform, SignalingProxy, type SignalingProxyOptions } from "./signaling-proxy.ts";
export { type RelayIceCounts, RelayPath, type RelayPathOptions } from "./relay-path.ts";
