/**
 * Training progress for the terminal: a one-line bar with ETA and tokens/s on a TTY, plain lines
 * (one every `plainEvery` steps) when output goes to a file or pipe.
 */
import type { EvalMetrics, StepMetrics } from '../src/engine/train/trainer';
import { formatDuration } from '../src/util/format';
import type { Sink } from './sink';

export function formatRate(tokensPerSec: number): string {
  return tokensPerSec >= 1000 ? `${(tokensPerSec / 1000).toFixed(1)}k tok/s` : `${tokensPerSec.toFixed(0)} tok/s`;
}

export class Progress {
  private readonly started = Date.now();
  private readonly tty: boolean;
  private readonly plainEvery: number;

  constructor(
    private readonly total: number,
    private readonly out: Sink,
  ) {
    this.tty = out.tty;
    this.plainEvery = Math.max(1, Math.round(total / 20));
  }

  step(m: StepMetrics): void {
    const done = m.step + 1;
    const elapsed = Date.now() - this.started;
    const eta = (elapsed / done) * (this.total - done);
    const stats = `loss ${m.loss.toFixed(4)} | lr ${m.lr.toExponential(2)} | ${formatRate(m.tokensPerSec)}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((done / this.total) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.out.write(`\r\x1b[2K${bar} ${done}/${this.total} | ${stats} | ETA ${formatDuration(eta)}`);
    } else if (done % this.plainEvery === 0 || done === this.total || m.step === 0) {
      this.out.write(`step ${done}/${this.total} | ${stats} | ETA ${formatDuration(eta)}\n`);
    }
  }

  eval(e: EvalMetrics): void {
    const parts = Object.entries(e.losses).map(([k, v]) => `${k} loss ${v.toFixed(4)}`);
    this.line(`eval at step ${e.step}: ${parts.join(', ')}`);
  }

  line(text: string): void {
    this.out.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }

  end(): void {
    if (this.tty) this.out.write('\n');
  }
}
