/**
 * GPU validation errors, made visible. WebGPU reports a rejected program (too many storage buffers, a
 * bad binding, an allocation that failed) asynchronously and, by default, only to the console — and
 * every dispatch in the same queue submit is silently skipped. Training would go on over skipped work.
 *
 * The guard keeps a validation and an out-of-memory error scope open on the device at all times; each
 * `check` pops them (the promises settle once the GPU has processed what was submitted inside), opens
 * new ones, and throws if anything failed. Errors raised in the instant between pop and push reach the
 * device's `uncapturederror` event, which the guard also records. The trainer checks right after each
 * read-back, sampling after each reply, so a rejected program stops the work with the GPU's message.
 */
import * as tf from '../engine/tf';
import { EngineError } from '../engine/errors';

export interface GpuErrorLike {
  message: string;
}

export interface GpuDeviceLike {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
  addEventListener?(type: 'uncapturederror', listener: (e: { error?: GpuErrorLike }) => void): void;
}

export class GpuProgramError extends EngineError {
  override name = 'GpuProgramError';
  constructor(readonly gpuMessage: string) {
    const detail = gpuMessage.split('\n')[0].slice(0, 300);
    super(
      `the GPU rejected part of the work (${detail}). The run was stopped so it does not train on ` +
        'skipped work; the last steps may be incomplete: load the last autosave, or switch to another backend (WebGL or WebAssembly).',
      'gpuRejected',
      { detail },
    );
  }
}

/** The WebGPU device TF.js is using, or null on any other backend. */
export function webgpuDevice(): GpuDeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const device = (tf.backend() as unknown as { device?: GpuDeviceLike }).device;
  return device && typeof device.pushErrorScope === 'function' ? device : null;
}

export class GpuErrorGuard {
  private uncaptured: string | null = null;
  private chain: Promise<void> = Promise.resolve();

  /** Opens the scopes at once; on a backend without a WebGPU device every check passes. */
  constructor(private readonly device: GpuDeviceLike | null = webgpuDevice()) {
    if (!device) return;
    device.addEventListener?.('uncapturederror', (e) => {
      this.uncaptured ??= e.error?.message ?? 'unknown GPU error';
    });
    this.push();
  }

  get active(): boolean {
    return this.device !== null;
  }

  private push(): void {
    this.device!.pushErrorScope('out-of-memory');
    this.device!.pushErrorScope('validation');
  }

  /** Throws GpuProgramError if the GPU rejected anything since the last check. Calls are serialised. */
  check(): Promise<void> {
    if (!this.device) return Promise.resolve();
    const run = this.chain.then(async () => {
      const validation = await this.device!.popErrorScope();
      const memory = await this.device!.popErrorScope();
      this.push();
      const message = validation?.message ?? memory?.message ?? this.uncaptured;
      this.uncaptured = null;
      if (message) throw new GpuProgramError(message);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
