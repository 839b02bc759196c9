/**
 * The font of rendered charts: Inter (SIL Open Font License 1.1), shipped as TTF files by the
 * npm package @expo-google-fonts/inter and read from the installed package, never from the web.
 * Besides handing the raw files to the PNG rasteriser, this module reads each face's advance
 * widths so that Vega lays text out with the widths the rasteriser will draw.
 */
import { fileURLToPath } from "node:url";

/** CSS font family written into rendered SVG (Inter first; the rest are browser fallbacks). */
export const FONT_STACK = "Inter, Helvetica, Arial, sans-serif";

/** Family name of the shipped faces (as the rasteriser knows them). */
export const FONT_FAMILY = "Inter";

const FACES = {
  regular: "@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf",
  bold: "@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf",
} as const;

/** One loaded face: the file and its horizontal metrics. */
export interface FontFace {
  bytes: Uint8Array;
  /** Width of `text` at `size` px (advance widths, no kerning). */
  measure(text: string, size: number): number;
}

/** Both faces of the chart font. */
export interface ChartFonts {
  regular: FontFace;
  bold: FontFace;
}

let loading: Promise<ChartFonts> | null = null;

/** Loads (once per process) the chart font's faces from the installed npm package. */
export function loadChartFonts(): Promise<ChartFonts> {
  loading ??= (async () => {
    const [regular, bold] = await Promise.all([readFace(FACES.regular), readFace(FACES.bold)]);
    return { regular: parseFace(regular), bold: parseFace(bold) };
  })().catch((e) => {
    loading = null;
    throw e;
  });
  return loading;
}

async function readFace(specifier: string): Promise<Uint8Array> {
  let path: string;
  try {
    path = fileURLToPath(import.meta.resolve(specifier));
  } catch (e) {
    throw new Error(`cannot resolve font ${specifier}: ${(e as Error).message}`);
  }
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new Error(
      `font file not found at ${path} (${(e as Error).name}); run \`deno install\` ` +
        "(npm package @expo-google-fonts/inter)",
    );
  }
}

/**
 * Reads unitsPerEm (head), the advance widths (hhea + hmtx) and the character map (cmap format
 * 4 or 12) of a TrueType/OpenType file: enough to measure text without a canvas.
 */
export function parseFace(bytes: Uint8Array): FontFace {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numTables = view.getUint16(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    const tag = String.fromCharCode(...bytes.subarray(rec, rec + 4));
    tables.set(tag, view.getUint32(rec + 8));
  }
  const need = (tag: string) => {
    const off = tables.get(tag);
    if (off === undefined) throw new Error(`font has no ${tag} table`);
    return off;
  };
  const unitsPerEm = view.getUint16(need("head") + 18);
  const numHMetrics = view.getUint16(need("hhea") + 34);
  const hmtx = need("hmtx");
  const advance = (glyph: number) => view.getUint16(hmtx + 4 * Math.min(glyph, numHMetrics - 1));
  const glyphOf = readCmap(view, need("cmap"));
  const fallback = advance(glyphOf(0x20 /* space */) || 0) || unitsPerEm / 2;
  const widths = new Map<number, number>();
  const widthOf = (cp: number) => {
    let w = widths.get(cp);
    if (w === undefined) {
      const g = glyphOf(cp);
      // Characters the face lacks: the rasteriser falls back to another font; assume ~0.6 em.
      w = g ? advance(g) : Math.max(fallback, unitsPerEm * 0.6);
      widths.set(cp, w);
    }
    return w;
  };
  return {
    bytes,
    measure(text: string, size: number): number {
      let units = 0;
      for (const ch of text) units += widthOf(ch.codePointAt(0)!);
      return (units * size) / unitsPerEm;
    },
  };
}

/** A code point to glyph id lookup from the best Unicode subtable of a cmap. */
function readCmap(view: DataView, cmap: number): (cp: number) => number {
  const n = view.getUint16(cmap + 2);
  let fmt4 = -1, fmt12 = -1;
  for (let i = 0; i < n; i++) {
    const platform = view.getUint16(cmap + 4 + 8 * i);
    const encoding = view.getUint16(cmap + 6 + 8 * i);
    const off = cmap + view.getUint32(cmap + 8 + 8 * i);
    const format = view.getUint16(off);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12 && fmt12 < 0) fmt12 = off;
    if (format === 4 && fmt4 < 0) fmt4 = off;
  }
  if (fmt12 >= 0) {
    const groups = view.getUint32(fmt12 + 12);
    return (cp) => {
      let lo = 0, hi = groups - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const g = fmt12 + 16 + 12 * mid;
        const start = view.getUint32(g), end = view.getUint32(g + 4);
        if (cp < start) hi = mid - 1;
        else if (cp > end) lo = mid + 1;
        else return view.getUint32(g + 8) + (cp - start);
      }
      return 0;
    };
  }
  if (fmt4 < 0) throw new Error("font has no Unicode cmap (format 4 or 12)");
  const segX2 = view.getUint16(fmt4 + 6);
  const ends = fmt4 + 14;
  const starts = ends + segX2 + 2;
  const deltas = starts + segX2;
  const ranges = deltas + segX2;
  return (cp) => {
    if (cp > 0xffff) return 0;
    for (let s = 0; s < segX2; s += 2) {
      if (view.getUint16(ends + s) < cp) continue;
      const start = view.getUint16(starts + s);
      if (start > cp) return 0;
      const delta = view.getInt16(deltas + s);
      const rangeOff = view.getUint16(ranges + s);
      if (rangeOff === 0) return (cp + delta) & 0xffff;
      const g = view.getUint16(ranges + s + rangeOff + 2 * (cp - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
}
