/**
 * The report's document model and its two renderings: Markdown (figures linked as PNG files) and
 * a standalone HTML page (figures inline as SVG). Experiments build their tables and notes as
 * {@link Block}s; lib/report/_report.ts assembles them.
 *
 * @module
 */
import type { Stat } from "./_aggregate.ts";

/** A block of the report's document model. */
export type Block =
  | { type: "h"; level: 1 | 2 | 3; text: string }
  | { type: "p"; text: string }
  | { type: "quote"; text: string }
  | { type: "list"; items: string[] }
  | { type: "table"; head: string[]; rows: string[][] }
  | { type: "figure"; name: string; title: string; caption: string }
  | { type: "code"; text: string };

/** "1 h 2 min 3 s", "2 min 3 s" or "3 s". */
export function clock(s: number): string {
  const t = Math.round(s);
  const h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
  return h > 0 ? `${h} h ${m} min ${sec} s` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

/** A fraction as percent, "96.0 ± 0.2" (mean ± sd) or "96.0" for one value, "n/a" without any. */
export const pct = (s: Stat): string =>
  Number.isFinite(s.mean)
    ? s.n > 1
      ? `${(100 * s.mean).toFixed(1)} ± ${(100 * s.sd).toFixed(1)}`
      : (100 * s.mean).toFixed(1)
    : "n/a";

function mdCell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

/** Markdown of a document; figures link to `figureUrl(name)` (default `figures/<name>.png`). */
export function toMarkdown(
  blocks: Block[],
  figureUrl: (name: string) => string = (n) => `figures/${n}.png`,
): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.type) {
      case "h":
        out.push(`${"#".repeat(b.level)} ${b.text}`);
        break;
      case "p":
        out.push(b.text);
        break;
      case "quote":
        out.push(`> ${b.text}`);
        break;
      case "list":
        out.push(b.items.map((i) => `- ${i}`).join("\n"));
        break;
      case "table":
        out.push(
          [
            `| ${b.head.map(mdCell).join(" | ")} |`,
            `| ${b.head.map(() => "---").join(" | ")} |`,
            ...b.rows.map((r) => `| ${r.map(mdCell).join(" | ")} |`),
          ].join("\n"),
        );
        break;
      case "figure":
        out.push(`![${b.title}](${figureUrl(b.name)})\n\n*${b.caption}*`);
        break;
      case "code":
        out.push("```sh\n" + b.text + "\n```");
        break;
    }
  }
  return out.join("\n\n") + "\n";
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Escapes text and turns the Markdown inline marks the report uses (`code`, **bold**) into HTML. */
function inline(s: string): string {
  return esc(s)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>");
}

/** Prefixes every id of an SVG so that several can live in one HTML page. */
export function scopeSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*>\s*/, "")
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

const STYLE = `body{font-family:Inter,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5}table{border-collapse:collapse;margin:.6em 0 1.2em;
font-size:.88em}th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}blockquote{margin:.5em 0;padding:.3em 1em;border-left:4px solid #2e86ab;
background:#f5f9fb}figure{margin:1.2em 0}figure svg{max-width:100%;height:auto}
figcaption{font-size:.9em;color:#555}code,pre{background:#f4f4f4;border-radius:3px}
pre{padding:.6em;overflow:auto}code{padding:0 .2em}`;

/** A standalone HTML page of a document; `svgs` maps figure names to their SVG (inlined). */
export function toHtml(blocks: Block[], svgs: Map<string, string>): string {
  const body: string[] = [];
  let title = "infoplane experiment report";
  blocks.forEach((b, i) => {
    switch (b.type) {
      case "h":
        if (b.level === 1) title = b.text;
        body.push(`<h${b.level}>${inline(b.text)}</h${b.level}>`);
        break;
      case "p":
        body.push(`<p>${inline(b.text)}</p>`);
        break;
      case "quote":
        body.push(`<blockquote>${inline(b.text)}</blockquote>`);
        break;
      case "list":
        body.push(`<ul>${b.items.map((it) => `<li>${inline(it)}</li>`).join("")}</ul>`);
        break;
      case "table":
        body.push(
          `<table><thead><tr>${b.head.map((h) => `<th>${inline(h)}</th>`).join("")}</tr></thead>` +
            `<tbody>${
              b.rows.map((r) => `<tr>${r.map((c) => `<td>${inline(c)}</td>`).join("")}</tr>`)
                .join("")
            }</tbody></table>`,
        );
        break;
      case "figure": {
        const svg = svgs.get(b.name);
        body.push(
          `<figure id="${esc(b.name)}">${
            svg ? scopeSvgIds(svg, `f${i}`) : `<p>(figure ${esc(b.name)} missing)</p>`
          }<figcaption>${inline(b.caption)}</figcaption></figure>`,
        );
        break;
      }
      case "code":
        body.push(`<pre><code>${esc(b.text)}</code></pre>`);
        break;
    }
  });
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(title)}</title><style>${STYLE}</style></head><body>\n` +
    body.join("\n") + "\n</body></html>\n";
}
