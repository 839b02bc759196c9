/**
 * Server-side rendering of Vega-Lite specs: SVG through vega-lite + vega's headless view (no
 * canvas needed), PNG by rasterising that SVG with resvg compiled to WebAssembly. Text is laid
 * out with the metrics of the shipped Inter font (./fonts.ts) and drawn with the same font, so
 * PNGs look the same on every machine; nothing is fetched from the network.
 */
import process from "node:process";
import { fileURLToPath } from "node:url";
import type * as Vega from "vega";
import { FONT_FAMILY, FONT_STACK, type FontFace, loadChartFonts } from "./fonts.ts";
import type { VegaLiteSpec } from "./specs.ts";

/** A Vega-Lite spec compiled to Vega, with what the compiler warned about. */
export interface CompiledSpec {
  vega: Vega.Spec;
  warnings: string[];
}

interface Libraries {
  vega: typeof Vega;
  compile: typeof import("vega-lite").compile;
}

let libraries: Promise<Libraries> | null = null;

/**
 * Loads vega and vega-lite on first use (loading them is slow enough that the service's start
 * should not pay it). vega's Node build pulls in node-fetch 2, whose URL library warns that Node's
 * `punycode` module is deprecated; that one import is kept quiet (vega never fetches here).
 */
function loadLibraries(): Promise<Libraries> {
  libraries ??= (async () => {
    const proc = process as unknown as { noDeprecation?: boolean };
    const before = proc.noDeprecation;
    proc.noDeprecation = true;
    try {
      const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
      return { vega, compile: vl.compile };
    } finally {
      proc.noDeprecation = before;
    }
  })().catch((e) => {
    libraries = null;
    throw e;
  });
  return libraries;
}

/** Options of {@link renderSvg}. */
export interface SvgOptions {
  /** Receives compiler and runtime warnings (by default they are dropped). */
  onWarning?: (message: string) => void;
}

/** Options of {@link renderPng}. */
export interface PngOptions {
  /** Pixels per SVG unit (1 to 4; default 2, sharp on high-density screens). */
  scale?: number;
}

/** A Vega logger that hands warnings and errors to `sink` instead of the console. */
function collectingLogger(
  vega: typeof Vega,
  sink: (message: string) => void,
): Vega.LoggerInterface {
  let level = vega.Warn;
  const text = (args: readonly unknown[]) =>
    args.map((a) => (a instanceof Error ? a.message : String(a))).join(" ");
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      sink(`error: ${text(args)}`);
      return logger;
    },
    warn(...args: readonly unknown[]) {
      if (level >= vega.Warn) sink(text(args));
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as unknown as Vega.LoggerInterface;
}

/**
 * Compiles a Vega-Lite spec to Vega, collecting the compiler's warnings. Throws on specs the
 * compiler rejects. The chart font is set as the default font (the spec's own config wins).
 */
export async function compileSpec(spec: VegaLiteSpec): Promise<CompiledSpec> {
  const { vega, compile } = await loadLibraries();
  const warnings: string[] = [];
  const out = compile(spec as never, {
    logger: collectingLogger(vega, (m) => warnings.push(m)) as never,
    config: { font: FONT_STACK },
  });
  return { vega: out.spec as Vega.Spec, warnings };
}

// ---------------------------------------------------------------------------------------------
// Text metrics: Vega measures text with a canvas when one is available and otherwise guesses
// 0.8 em per character, which spaces labels far too widely. Vega lets a process install its own
// width function (vl-convert does the same); ours uses the shipped font's advance widths.

interface TextItem {
  fontSize?: number | string;
  fontWeight?: string | number;
  limit?: number;
}

interface TextMetrics {
  width: (item: TextItem, text: unknown) => number;
}

let metricsReady: Promise<void> | null = null;

function installTextMetrics(vega: typeof Vega): Promise<void> {
  metricsReady ??= loadChartFonts().then((fonts) => {
    const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
    if (!metrics) return; // an older vega: keep its estimate
    const isBold = (w: TextItem["fontWeight"]) =>
      w === "bold" || w === "bolder" || (typeof w === "number" && w >= 600) ||
      (typeof w === "string" && Number(w) >= 600);
    metrics.width = (item, text) => {
      const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
      if (size <= 0 || text == null) return 0;
      const lines = Array.isArray(text) ? text : [text];
      const face: FontFace = isBold(item.fontWeight) ? fonts.bold : fonts.regular;
      const w = Math.max(0, ...lines.map((t) => face.measure(String(t).trim(), size)));
      return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
    };
  }).catch((e) => {
    metricsReady = null;
    throw e;
  });
  return metricsReady;
}

/** Refuses every external load: charts carry their data inline. */
function inlineOnlyLoader(vega: typeof Vega): Vega.Loader {
  const base = vega.loader();
  const refuse = (uri: string) =>
    Promise.reject(new Error(`charts render inline data only; refused to load "${uri}"`));
  return { ...base, load: refuse, sanitize: refuse, http: refuse, file: refuse };
}

/**
 * Renders a Vega-Lite spec to a standalone SVG document (white background, text in the chart
 * font with browser fallbacks). Throws when the spec does not compile.
 */
export async function renderSvg(spec: VegaLiteSpec, opts: SvgOptions = {}): Promise<string> {
  const { vega } = await loadLibraries();
  await installTextMetrics(vega);
  const sink = opts.onWarning ?? (() => {});
  const { vega: vg, warnings } = await compileSpec(spec);
  warnings.forEach((w) => sink(w));
  const view = new vega.View(vega.parse(vg), {
    renderer: "none",
    logger: collectingLogger(vega, sink),
    loader: inlineOnlyLoader(vega),
  });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------------------------
// PNG

type ResvgClass = typeof import("@resvg/resvg-wasm").Resvg;

let wasmReady: Promise<ResvgClass> | null = null;

/** Initialises resvg's WebAssembly module once per process (read from the installed package). */
function initResvg(): Promise<ResvgClass> {
  wasmReady ??= (async () => {
    const { initWasm, Resvg } = await import("@resvg/resvg-wasm");
    const path = fileURLToPath(import.meta.resolve("@resvg/resvg-wasm/index_bg.wasm"));
    await initWasm(await Deno.readFile(path));
    return Resvg;
  })().catch((e) => {
    wasmReady = null;
    throw e;
  });
  return wasmReady;
}

/**
 * Rasterises an SVG document (as made by {@link renderSvg}) to PNG bytes with resvg, using only
 * the shipped font (no system fonts), at `scale` pixels per SVG unit.
 */
export async function renderPng(svg: string, opts: PngOptions = {}): Promise<Uint8Array> {
  const scale = opts.scale ?? 2;
  if (!(scale >= 1 && scale <= 4)) throw new RangeError(`scale must be in [1, 4], got ${scale}`);
  const [fonts, Resvg] = await Promise.all([loadChartFonts(), initResvg()]);
  const resvg = new Resvg(svg, {
    font: {
      fontBuffers: [fonts.regular.bytes, fonts.bold.bytes],
      defaultFontFamily: FONT_FAMILY,
      sansSerifFamily: FONT_FAMILY,
    },
    fitTo: { mode: "zoom", value: scale },
    background: "white",
    shapeRendering: 2,
    textRendering: 1,
  });
  try {
    const image = resvg.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}
