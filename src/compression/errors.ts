// The compression layer's typed error: a message (from the network or a file) that failed
// validation. `problem` names the check that failed so callers can count or log by cause.
import { GossipflError } from '../util/errors.js';

/** Which wire check failed. */
export type WireProblem =
  | 'truncated' // shorter than its header or its declared sections
  | 'oversized' // larger than the expected model allows
  | 'checksum' // CRC32 does not match
  | 'header' // bad magic, unknown version/kind/method/coding, reserved bits set
  | 'mismatch' // valid, but not what the receiver expects (sender, round, phase, method, parameters)
  | 'layout' // layer table does not match the expected model
  | 'section' // a section's sizes are inconsistent
  | 'non-finite' // NaN or ±Infinity in values or scales
  | 'index' // a sparse index is out of range or not strictly increasing
  | 'sequence'; // error-feedback state out of step with the sender (a message was lost)

export class WireError extends GossipflError {
  readonly problem: WireProblem;

  constructor(problem: WireProblem, message: string, options?: { cause?: unknown }) {
    super('wire', `compressed update rejected (${problem}): ${message}`, options);
    this.name = 'WireError';
    this.problem = problem;
  }
}
