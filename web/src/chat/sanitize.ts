// sanitizeHTML keeps the allow-listed subset of HTML that the client-server
// API suggests for `org.matrix.custom.html` (section "m.room.message msgtypes",
// "HTML in formatted_body"). It tokenizes the input and writes new markup:
// every text run and attribute value is re-escaped here, and only tags and
// attributes from the lists below are emitted, so nothing the sender wrote is
// ever passed through as markup.
import { escapeHTML } from "./markdown";

const TAGS = new Set([
  "font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol", "sup", "sub", "li", "b", "i",
  "u", "strong", "em", "s", "strike", "code", "hr", "br", "div", "table", "thead", "tbody", "tr", "th", "td", "caption",
  "pre", "span", "img", "details", "summary",
]);
const VOID = new Set(["br", "hr", "img"]);
/** Elements whose whole content is dropped, not just the tags. */
const DROP = new Set(["script", "style", "mx-reply", "iframe", "object", "embed", "template", "svg", "math", "head", "title", "textarea", "noscript"]);
const ATTRS: Record<string, string[]> = {
  a: ["href"],
  img: ["src", "alt", "title", "width", "height"],
  ol: ["start"],
  code: ["class"],
};
const LINK = /^(https?:|mailto:|matrix:)/i;
const MAX_DEPTH = 100;

export interface SanitizeOptions {
  /** mxcToHttp turns mxc:// image sources into URLs; images without one are dropped. */
  mxcToHttp?: (mxc: string) => string | null;
}

const TOKEN = /<!--[\s\S]*?(?:-->|$)|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s/>"'=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"'=<>`]+))?)*)\s*(\/?)>|<![^>]*>|<\?[^>]*>/g;
const ATTR = /([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"'=<>`]+)))?/g;

export function sanitizeHTML(html: string, opts: SanitizeOptions = {}): string {
  const out: string[] = [];
  const open: string[] = [];
  let dropping: string | null = null;
  let dropDepth = 0;
  let last = 0;
  const text = (s: string) => {
    if (!dropping && s) out.push(escapeHTML(decodeEntities(s)));
  };
  for (const m of html.matchAll(TOKEN)) {
    text(html.slice(last, m.index));
    last = m.index! + m[0].length;
    const name = m[2]?.toLowerCase();
    if (!name) continue; // comments, doctype, processing instructions
    const closing = m[1] === "/";
    if (dropping) {
      if (name === dropping) dropDepth += closing ? -1 : 1;
      if (dropDepth === 0) dropping = null;
      continue;
    }
    if (DROP.has(name)) {
      if (!closing && !m[4]) {
        dropping = name;
        dropDepth = 1;
      }
      continue;
    }
    if (!TAGS.has(name)) continue;
    if (closing) {
      const at = open.lastIndexOf(name);
      if (at < 0) continue;
      while (open.length > at) out.push(`</${open.pop()}>`);
      continue;
    }
    const attrs = attributes(name, m[3] ?? "", opts);
    if (attrs === null) continue;
    if (VOID.has(name)) {
      out.push(`<${name}${attrs}>`);
    } else if (open.length < MAX_DEPTH) {
      out.push(`<${name}${attrs}>`);
      open.push(name);
    }
  }
  text(html.slice(last));
  while (open.length) out.push(`</${open.pop()}>`);
  return out.join("");
}

/** attributes returns the allowed attributes as markup, or null to drop the tag. */
function attributes(tag: string, raw: string, opts: SanitizeOptions): string | null {
  const allowed = ATTRS[tag] ?? [];
  const got: Record<string, string> = {};
  for (const a of raw.matchAll(ATTR)) {
    const k = a[1].toLowerCase();
    if (allowed.includes(k)) got[k] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? "");
  }
  if (tag === "a") {
    if (got.href && !LINK.test(got.href.trim())) delete got.href;
    if (got.href) Object.assign(got, { rel: "noopener noreferrer nofollow", target: "_blank" });
  }
  if (tag === "img") {
    const url = got.src?.startsWith("mxc://") && opts.mxcToHttp ? opts.mxcToHttp(got.src) : null;
    if (!url) return null;
    got.src = url;
  }
  if (tag === "code" && got.class && !/^language-[\w-]+$/.test(got.class)) delete got.class;
  if (tag === "ol" && got.start && !/^\d{1,6}$/.test(got.start)) delete got.start;
  for (const k of ["width", "height"]) if (got[k] && !/^\d{1,4}$/.test(got[k])) delete got[k];
  return Object.entries(got)
    .map(([k, v]) => ` ${k}="${escapeHTML(v)}"`)
    .join("");
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** decodeEntities undoes the common entities so they are escaped exactly once. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") {
      const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff) ? String.fromCodePoint(n) : "\ufffd";
    }
    return NAMED[e.toLowerCase()] ?? m;
  });
}
