/**
 * Random loss processes behind `LossModel`. Each draws from the `Rng` it is given, so a seed fixes
 * the loss pattern. One call to `lose()` per packet entering the link.
 */
import type { Rng } from "../../encoder/synth/prng.ts";
import type { LossModel } from "./config.ts";

export interface LossProcess {
  /** Decides the fate of the next packet: true = lost. */
  lose(): boolean;
}

export function makeLossProcess(model: LossModel, rng: Rng): LossProcess {
  switch (model.kind) {
    case "none":
      return { lose: () => false };
    case "bernoulli": {
      const p = model.p;
      return { lose: () => rng() < p };
    }
    case "gilbert-elliott":
      return new GilbertElliott(model.pGoodToBad, model.pBadToGood, model.lossInGood ?? 0, model.lossInBad ?? 1, rng);
  }
}

/**
 * Gilbert (1960) / Elliott (1963) two-state Markov loss, stepped once per packet as Linux netem's
 * `loss gemodel p r 1-h 1-k` does (net/sched/sch_netem.c `loss_gilb_ell`; Salsano et al.,
 * "Definition of a general and intuitive loss model for packet networks and its implementation in
 * the Netem module", 2012): the packet's fate is drawn from the state the chain is in, then the
 * chain moves. Starts in the good state. A bad-state run lasts a geometric number of packets with
 * mean 1 / pBadToGood; P(bad) = p / (p + r) in the long run.
 */
export class GilbertElliott implements LossProcess {
  private bad = false;

  constructor(
    private readonly pGoodToBad: number,
    private readonly pBadToGood: number,
    private readonly lossInGood: number,
    private readonly lossInBad: number,
    private readonly rng: Rng,
  ) {}

  /** True while the chain is in the bad state (for tests and traces of the loss pattern). */
  get inBadState(): boolean {
    return this.bad;
  }

  lose(): boolean {
    const lost = this.rng() < (this.bad ? this.lossInBad : this.lossInGood);
    if (this.bad) {
      if (this.rng() < this.pBadToGood) this.bad = false;
    } else if (this.rng() < this.pGoodToBad) {
      this.bad = true;
    }
    return lost;
  }
}
