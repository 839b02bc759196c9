/**
 * Model definitions: JSON that describes a network as a sequence of blocks, validated by zod,
 * plus the presets (mlp, lenet5, vgg-small, resnet-small) and shape inference against a
 * dataset's input shape. Every block's output is a tracked layer; a linear classifier to the
 * number of classes is appended automatically and tracked as "logits".
 *
 * Exact layer lists of the presets: docs/training.md.
 *
 * @module
 */
import { z } from "zod";
import { InputError } from "../errors.ts";

const int = (min: number, max: number) => z.number().int().min(min).max(max);

/** dense{units}: a fully connected layer (with bias) on a flat input. */
const DenseSchema = z.object({ type: z.literal("dense"), units: int(1, 65536) }).strict();
/** conv2d{filters, kernel, stride?, padding?}: square kernel, with bias. */
const Conv2dSchema = z.object({
  type: z.literal("conv2d"),
  filters: int(1, 4096),
  kernel: int(1, 15),
  stride: int(1, 8).default(1),
  padding: z.enum(["same", "valid"]).default("same"),
}).strict();
const poolFields = { size: int(1, 64), stride: int(1, 64).optional() };
/** maxPool2d{size, stride?}: square window, "valid" padding, stride defaults to size. */
const MaxPoolSchema = z.object({ type: z.literal("maxPool2d"), ...poolFields }).strict();
/** avgPool2d{size, stride?}: as maxPool2d. */
const AvgPoolSchema = z.object({ type: z.literal("avgPool2d"), ...poolFields }).strict();
const FlattenSchema = z.object({ type: z.literal("flatten") }).strict();
/** batchNorm: over the last (channel) axis; eps 1e-5, running-average momentum 0.1. */
const BatchNormSchema = z.object({ type: z.literal("batchNorm") }).strict();
const DropoutSchema = z.object({ type: z.literal("dropout"), rate: z.number().min(0).lt(1) })
  .strict();
const ReluSchema = z.object({ type: z.literal("relu") }).strict();
const TanhSchema = z.object({ type: z.literal("tanh") }).strict();
const SigmoidSchema = z.object({ type: z.literal("sigmoid") }).strict();
const LeakyReluSchema = z.object({
  type: z.literal("leakyRelu"),
  alpha: z.number().min(0).max(1).default(0.01),
}).strict();

/** One layer of a block. */
export const LayerSchema = z.discriminatedUnion("type", [
  DenseSchema,
  Conv2dSchema,
  MaxPoolSchema,
  AvgPoolSchema,
  FlattenSchema,
  BatchNormSchema,
  DropoutSchema,
  ReluSchema,
  TanhSchema,
  SigmoidSchema,
  LeakyReluSchema,
]).describe(
  "One layer: dense, conv2d, maxPool2d, avgPool2d, flatten, batchNorm, dropout, " +
    "relu, tanh, sigmoid or leakyRelu.",
);

/** A layer definition after defaults are filled in. */
export type LayerDef = z.infer<typeof LayerSchema>;

const NameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, {
  message: "a block name starts with a letter and has at most 64 letters, digits, _ . -",
}).refine((s) => s !== "logits", { message: '"logits" is reserved for the classifier' });

/** A plain block: layers applied in order. */
const LayersBlockSchema = z.object({
  type: z.literal("layers"),
  name: NameSchema.optional(),
  layers: z.array(LayerSchema).min(1).max(64),
}).strict();

/**
 * A residual basic block (He et al.): conv3x3(stride)-BN-ReLU-conv3x3-BN plus a shortcut (the
 * identity, or a 1x1 conv with stride + BN when the shape changes), then ReLU.
 */
const ResidualBlockSchema = z.object({
  type: z.literal("residual"),
  name: NameSchema.optional(),
  filters: int(1, 4096),
  stride: int(1, 4).default(1),
}).strict();

/** A block: `{layers: [...]}` (type "layers" may be omitted) or `{type: "residual", ...}`. */
export const BlockSchema = z.preprocess(
  (v) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && !("type" in v)
      ? { type: "layers", ...v }
      : v,
  z.discriminatedUnion("type", [LayersBlockSchema, ResidualBlockSchema]),
);

/** A block definition after defaults are filled in. */
export type BlockDef = z.infer<typeof BlockSchema>;

/** A full model definition. */
export const ModelDefSchema = z.object({
  blocks: z.array(BlockSchema).min(1).max(64),
  /**
   * How the classifier reads the last block: "flatten" (default) or "global_avg" (mean over
   * the spatial axes first, as ResNets do).
   */
  classifier_pool: z.enum(["flatten", "global_avg"]).default("flatten"),
}).strict().describe("A network as a sequence of blocks; a linear classifier is appended.");

/** A validated model definition (defaults filled in). */
export type ModelDef = z.infer<typeof ModelDefSchema>;

const activation = z.enum(["relu", "tanh", "sigmoid", "leakyRelu"]);
const widthMult = (d: number) => z.number().gt(0).max(16).default(d);

/** Presets; `width` is a channel multiplier except for mlp, where it is the number of units. */
export const PresetSchema = z.discriminatedUnion("preset", [
  z.object({
    preset: z.literal("mlp"),
    depth: int(1, 32).default(4),
    width: int(1, 8192).default(256),
    activation: activation.default("relu"),
  }).strict(),
  z.object({ preset: z.literal("lenet5"), width: widthMult(1) }).strict(),
  z.object({ preset: z.literal("vgg-small"), width: widthMult(0.25) }).strict(),
  z.object({
    preset: z.literal("resnet-small"),
    width: widthMult(0.25),
    depth: int(1, 8).default(1),
  }).strict(),
]).describe("A named architecture; see docs/training.md for the exact layers.");

/** A preset request after defaults are filled in. */
export type PresetSpec = z.infer<typeof PresetSchema>;

/** A model as a request may give it: a preset or a full definition. */
export const ModelSpecSchema = z.union([PresetSchema, ModelDefSchema]);

/** Names of the presets. */
export const PRESET_NAMES = ["mlp", "lenet5", "vgg-small", "resnet-small"] as const;

/** Field path of a zod issue in the API's notation, e.g. model.blocks[1].layers[2]. */
export function fieldPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out;
}

/**
 * The field a model problem is reported on: the layer (or block) at fault, so that a bad
 * property of a layer names the layer, e.g. model.blocks[1].layers[2].
 */
function faultyPart(path: ReadonlyArray<PropertyKey>): { at: PropertyKey[]; rest: PropertyKey[] } {
  const li = path.indexOf("layers");
  if (li >= 0 && typeof path[li + 1] === "number") {
    return { at: path.slice(0, li + 2), rest: path.slice(li + 2) };
  }
  const bi = path.indexOf("blocks");
  if (bi >= 0 && typeof path[bi + 1] === "number") {
    return { at: path.slice(0, bi + 2), rest: path.slice(bi + 2) };
  }
  return { at: [...path], rest: [] };
}

/** Turns the first zod issue into an InputError naming the layer at fault. */
export function modelIssueError(issue: z.core.$ZodIssue, prefix = "model"): InputError {
  const { at, rest } = faultyPart(issue.path);
  const field = fieldPath(prefix, at);
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    message = `unknown field${issue.keys.length > 1 ? "s" : ""} ${
      issue.keys.map((k) => `"${k}"`).join(", ")
    }`;
  } else if (issue.code === "invalid_union" && issue.path.at(-1) === "type") {
    message = `unknown layer or block type; ${
      issue.message.replace("Invalid discriminator value. ", "")
    }`;
  } else if (issue.code === "invalid_union" && issue.path.at(-1) === "preset") {
    message = `unknown preset; expected one of ${PRESET_NAMES.join(", ")}`;
  }
  const prop = fieldPath("", rest.filter((p) => p !== "type" && p !== "preset"));
  return new InputError("invalid-model", `${field}: ${prop ? `${prop}: ` : ""}${message}`, field);
}

/** Parses a model definition (not a preset), throwing InputError("invalid-model"). */
export function parseModelDef(raw: unknown, prefix = "model"): ModelDef {
  const r = ModelDefSchema.safeParse(raw);
  if (!r.success) throw modelIssueError(r.error.issues[0], prefix);
  const model = r.data;
  // Pools: stride defaults to the window size (as in PyTorch).
  for (const b of model.blocks) {
    if (b.type !== "layers") continue;
    for (const l of b.layers) {
      if ((l.type === "maxPool2d" || l.type === "avgPool2d") && l.stride === undefined) {
        l.stride = l.size;
      }
    }
  }
  const seen = new Set<string>();
  model.blocks.forEach((b, i) => {
    const name = blockName(b, i);
    if (seen.has(name)) {
      throw new InputError(
        "invalid-model",
        `model.blocks[${i}]: block name "${name}" is used twice`,
        `model.blocks[${i}]`,
      );
    }
    seen.add(name);
  });
  return model;
}

/** A model spec from a request: a preset (expanded) or a full definition. */
export function resolveModelSpec(raw: unknown, prefix = "model"): ModelDef {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && "preset" in raw) {
    const r = PresetSchema.safeParse(raw);
    if (!r.success) throw modelIssueError(r.error.issues[0], prefix);
    return parseModelDef(expandPreset(r.data), prefix);
  }
  return parseModelDef(raw, prefix);
}

/** The tracked name of block i: its `name`, else "block<i+1>". */
export function blockName(b: BlockDef, i: number): string {
  return b.name ?? `block${i + 1}`;
}

const ch = (n: number, w: number) => Math.max(1, Math.round(n * w));

/** Expands a preset into a full model definition (the exact layers are in docs/training.md). */
export function expandPreset(p: PresetSpec): unknown {
  switch (p.preset) {
    case "mlp":
      return {
        blocks: Array.from({ length: p.depth }, (_, i) => ({
          name: `fc${i + 1}`,
          layers: [
            ...(i === 0 ? [{ type: "flatten" }] : []),
            { type: "dense", units: p.width },
            { type: p.activation },
          ],
        })),
      };
    case "lenet5":
      return {
        blocks: [
          {
            name: "conv1",
            layers: [
              { type: "conv2d", filters: ch(6, p.width), kernel: 5, padding: "same" },
              { type: "relu" },
              { type: "maxPool2d", size: 2 },
            ],
          },
          {
            name: "conv2",
            layers: [
              { type: "conv2d", filters: ch(16, p.width), kernel: 5, padding: "valid" },
              { type: "relu" },
              { type: "maxPool2d", size: 2 },
            ],
          },
          {
            name: "fc1",
            layers: [{ type: "flatten" }, { type: "dense", units: ch(120, p.width) }, {
              type: "relu",
            }],
          },
          { name: "fc2", layers: [{ type: "dense", units: ch(84, p.width) }, { type: "relu" }] },
        ],
      };
    case "vgg-small": {
      const conv = (n: number, pool: boolean) => [
        { type: "conv2d", filters: ch(n, p.width), kernel: 3, padding: "same" },
        { type: "batchNorm" },
        { type: "relu" },
        ...(pool ? [{ type: "maxPool2d", size: 2 }] : []),
      ];
      return {
        blocks: [
          { name: "conv1", layers: conv(64, true) },
          { name: "conv2", layers: conv(128, true) },
          { name: "conv3", layers: conv(256, false) },
          { name: "conv4", layers: conv(256, true) },
        ],
      };
    }
    case "resnet-small": {
      const blocks: unknown[] = [{
        name: "stem",
        layers: [
          { type: "conv2d", filters: ch(64, p.width), kernel: 3, padding: "same" },
          { type: "batchNorm" },
          { type: "relu" },
        ],
      }];
      [64, 128, 256].forEach((n, s) => {
        for (let j = 0; j < p.depth; j++) {
          blocks.push({
            type: "residual",
            name: p.depth === 1 ? `res${s + 1}` : `res${s + 1}_${j + 1}`,
            filters: ch(n, p.width),
            stride: s > 0 && j === 0 ? 2 : 1,
          });
        }
      });
      return { blocks, classifier_pool: "global_avg" };
    }
  }
}

/** Shape bookkeeping of one block after inference. */
export interface BlockPlan {
  name: string;
  /** Field path of the block in the request, e.g. model.blocks[2]. */
  field: string;
  def: BlockDef;
  inShape: number[];
  outShape: number[];
  /** Per-sample output shape of each layer (plain blocks) or [] (residual blocks). */
  layerShapes: number[][];
  params: number;
}

/** A model checked against an input shape. */
export interface ModelPlan {
  model: ModelDef;
  inputShape: number[];
  numClasses: number;
  blocks: BlockPlan[];
  /** Input size of the classifier (after flatten or global average pooling). */
  classifierIn: number;
  /** Trainable parameters of the blocks and the classifier (heads excluded). */
  params: number;
}

/** Largest number of trainable parameters a model may have. */
export const MAX_PARAMS = 50_000_000;

const fmt = (s: number[]) => `[${s.join(", ")}]`;

/** Output side of a convolution or pool. */
export function convOut(n: number, k: number, s: number, padding: "same" | "valid"): number {
  return padding === "same" ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/**
 * Checks a model definition against a per-sample input shape ([h, w, c] or [d]) and a number
 * of classes and infers every block's output shape.
 *
 * @throws {InputError} "invalid-model" whose field names the layer at fault, e.g.
 *   model.blocks[1].layers[2], with a message saying what does not fit.
 */
export function checkModelAgainstInput(
  model: unknown,
  shape: number[],
  numClasses: number,
): ModelPlan {
  const def = resolveModelSpec(model);
  if (shape.length !== 1 && shape.length !== 3) {
    throw new InputError(
      "invalid-model",
      `input shape ${fmt(shape)} is neither [d] nor [h, w, c]`,
      "dataset",
    );
  }
  if (!(numClasses >= 2)) {
    throw new InputError("invalid-model", `need at least 2 classes, got ${numClasses}`, "dataset");
  }
  let cur = [...shape];
  let total = 0;
  const blocks: BlockPlan[] = def.blocks.map((b, bi) => {
    const field = `model.blocks[${bi}]`;
    const inShape = cur;
    let params = 0;
    const layerShapes: number[][] = [];
    if (b.type === "residual") {
      if (cur.length !== 3) {
        throw new InputError(
          "invalid-model",
          `${field}: a residual block needs an image input [h, w, c] but gets ${fmt(cur)}`,
          field,
        );
      }
      const [h, w, c] = cur;
      const f = b.filters;
      params += 9 * c * f + 9 * f * f + 4 * f;
      if (b.stride !== 1 || c !== f) params += c * f + 2 * f;
      cur = [convOut(h, 3, b.stride, "same"), convOut(w, 3, b.stride, "same"), f];
    } else {
      b.layers.forEach((l, li) => {
        const at = `${field}.layers[${li}]`;
        const bad = (msg: string): never => {
          throw new InputError("invalid-model", `${at}: ${l.type} ${msg}`, at);
        };
        switch (l.type) {
          case "dense": {
            if (cur.length !== 1) {
              bad(`needs a flat input [d] but gets ${fmt(cur)}; put a flatten layer before it`);
            }
            params += cur[0] * l.units + l.units;
            cur = [l.units];
            break;
          }
          case "conv2d": {
            if (cur.length !== 3) bad(`needs an image input [h, w, c] but gets ${fmt(cur)}`);
            const [h, w, c] = cur;
            const oh = convOut(h, l.kernel, l.stride, l.padding);
            const ow = convOut(w, l.kernel, l.stride, l.padding);
            if (oh < 1 || ow < 1) {
              bad(`kernel ${l.kernel} does not fit its ${h}x${w} input with padding "valid"`);
            }
            params += l.kernel * l.kernel * c * l.filters + l.filters;
            cur = [oh, ow, l.filters];
            break;
          }
          case "maxPool2d":
          case "avgPool2d": {
            if (cur.length !== 3) bad(`needs an image input [h, w, c] but gets ${fmt(cur)}`);
            const [h, w, c] = cur;
            const s = l.stride ?? l.size;
            if (l.size > h || l.size > w) {
              bad(`window ${l.size} is larger than its ${h}x${w} input`);
            }
            cur = [convOut(h, l.size, s, "valid"), convOut(w, l.size, s, "valid"), c];
            break;
          }
          case "flatten":
            cur = [cur.reduce((a, d) => a * d, 1)];
            break;
          case "batchNorm":
            params += 2 * cur[cur.length - 1];
            break;
          default:
            break;
        }
        layerShapes.push(cur);
      });
    }
    total += params;
    return { name: blockName(b, bi), field, def: b, inShape, outShape: cur, layerShapes, params };
  });
  const last = cur;
  const classifierIn = last.length === 3 && def.classifier_pool === "global_avg"
    ? last[2]
    : last.reduce((a, d) => a * d, 1);
  total += classifierIn * numClasses + numClasses;
  if (total > MAX_PARAMS) {
    throw new InputError(
      "invalid-model",
      `model has ${total} trainable parameters; at most ${MAX_PARAMS} are allowed`,
      "model",
    );
  }
  return { model: def, inputShape: [...shape], numClasses, blocks, classifierIn, params: total };
}
