/** What every layer implements, and the seeded parameter store layers draw their weights from. */
import { tf } from "../tf.ts";
import { fillNormal, fillUniform, stream } from "../random.ts";

/** Per-call settings of a forward pass. */
export interface ForwardContext {
  /** Training mode: batch statistics in batchNorm, dropout active. */
  training: boolean;
  /** A fresh 32-bit seed (dropout masks); deterministic per job seed and step. */
  nextSeed(): number;
  /** In training mode, whether batchNorm updates its running statistics (default true). */
  updateStats?: boolean;
}

/** A differentiable layer (tfjs ops only; gradients come from lib/train/autodiff). */
export interface Layer {
  /** Per-sample output shape. */
  readonly outShape: number[];
  /** Trainable parameters. */
  readonly params: tf.Variable[];
  /** Non-trainable state (batchNorm running statistics). */
  readonly state: tf.Variable[];
  apply(x: tf.Tensor, ctx: ForwardContext): tf.Tensor;
}

/** How a parameter is initialised. */
export type Init =
  /** He (Kaiming) normal: std = gain / sqrt(fan_in). */
  | { kind: "he"; fanIn: number; gain: number }
  /** Glorot (Xavier) uniform: limit = sqrt(6 / (fan_in + fan_out)). */
  | { kind: "glorot"; fanIn: number; fanOut: number }
  | { kind: "zeros" }
  | { kind: "ones" };

let nextUid = 0;

/**
 * Creates parameters whose initial values depend only on the job seed and the parameter's
 * logical name (e.g. "fc2/0.dense/kernel"), never on creation order, so two networks of the same
 * architecture and seed start identical whatever heads or methods surround them.
 */
export class ParamStore {
  readonly variables: tf.Variable[] = [];
  readonly #uid = nextUid++;

  constructor(readonly seed: number) {}

  /** A trainable parameter. */
  param(name: string, shape: number[], init: Init): tf.Variable {
    return this.#make(name, shape, init, true);
  }

  /** Non-trainable state with a constant initial value. */
  state(name: string, shape: number[], value: 0 | 1): tf.Variable {
    return this.#make(name, shape, { kind: value === 0 ? "zeros" : "ones" }, false);
  }

  #make(name: string, shape: number[], init: Init, trainable: boolean): tf.Variable {
    const size = shape.reduce((a, d) => a * d, 1);
    const values = new Float32Array(size);
    const rng = stream(this.seed, `init/${name}`);
    if (init.kind === "he") fillNormal(values, rng, init.gain / Math.sqrt(init.fanIn));
    else if (init.kind === "glorot") {
      fillUniform(values, rng, Math.sqrt(6 / (init.fanIn + init.fanOut)));
    } else if (init.kind === "ones") values.fill(1);
    // tfjs variable names are global to the engine: the uid keeps networks apart.
    const initial = tf.tensor(values, shape);
    const v = tf.variable(initial, trainable, `${name}#${this.#uid}`);
    initial.dispose();
    this.variables.push(v);
    return v;
  }

  /** Frees every variable created here. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.variables.length = 0;
  }
}

/** Init of a weight followed (after normalisation/pooling) by `next`: He for ReLUs, else Glorot. */
export function weightInit(
  fanIn: number,
  fanOut: number,
  next: string | undefined,
  alpha = 0.01,
): Init {
  if (next === "relu") return { kind: "he", fanIn, gain: Math.SQRT2 };
  if (next === "leakyRelu") return { kind: "he", fanIn, gain: Math.sqrt(2 / (1 + alpha * alpha)) };
  return { kind: "glorot", fanIn, fanOut };
}
