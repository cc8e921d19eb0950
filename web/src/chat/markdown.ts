// A small Markdown subset for the composer, turned into the HTML of
// `formatted_body` with `format: "org.matrix.custom.html"` (client-server
// API, "m.room.message msgtypes", m.text). Everything the user typed is
// escaped first; only the markup produced here is HTML.

export function escapeHTML(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

const SAFE_URL = /^(https?:\/\/|mailto:|matrix:)/i;

/** inline renders code spans, emphasis, strike-through and links in one line. */
function inline(text: string): string {
  // Code spans first, so nothing inside them is formatted.
  return text
    .split(/(`[^`\n]+`)/)
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeHTML(part.slice(1, -1))}</code>` : spans(part)))
    .join("");
}

function spans(raw: string): string {
  const links: string[] = [];
  // Links are cut out before escaping so their URLs are checked raw.
  let s = raw.replace(/\[([^\]\n]+)\]\(([^)\s]+)\)/g, (m, label: string, url: string) => {
    if (!SAFE_URL.test(url)) return m;
    links.push(`<a href="${escapeHTML(url)}">${spans(label)}</a>`);
    return `\u0000${links.length - 1}\u0000`;
  });
  s = s.replace(/\bhttps?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]']/g, (url) => {
    links.push(`<a href="${escapeHTML(url)}">${escapeHTML(url)}</a>`);
    return `\u0000${links.length - 1}\u0000`;
  });
  s = escapeHTML(s)
    .replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/__(?=\S)([^_]*?\S)__/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*(?=\S)([^*]*?\S)\*(?![*\w])/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_(?=\S)([^_]*?\S)_(?![_\w])/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([^~]*?\S)~~/g, "<del>$1</del>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => links[Number(i)]);
}

type Block = { kind: "p" | "quote" | "ul" | "ol" | "code" | "h"; lines: string[]; level?: number };

function blocks(src: string): Block[] {
  const out: Block[] = [];
  const lines = src.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = /^```/.exec(line);
    if (fence) {
      const code: string[] = [];
      for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) code.push(lines[i]);
      out.push({ kind: "code", lines: code });
      continue;
    }
    if (!line.trim()) {
      out.push({ kind: "p", lines: [] });
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      out.push({ kind: "h", lines: [h[2]], level: h[1].length });
      continue;
    }
    const kind: Block["kind"] = /^>\s?/.test(line) ? "quote" : /^[-*+]\s+/.test(line) ? "ul" : /^\d+[.)]\s+/.test(line) ? "ol" : "p";
    const text = kind === "quote" ? line.replace(/^>\s?/, "") : kind === "ul" ? line.replace(/^[-*+]\s+/, "") : kind === "ol" ? line.replace(/^\d+[.)]\s+/, "") : line;
    const last = out[out.length - 1];
    if (last && last.kind === kind && last.lines.length) last.lines.push(text);
    else out.push({ kind, lines: [text] });
  }
  return out.filter((b) => b.lines.length || b.kind === "code");
}

/** markdownToHTML renders the subset; plain text comes back escaped with <br>. */
export function markdownToHTML(src: string): string {
  const bs = blocks(src);
  const single = bs.length === 1 && bs[0].kind === "p";
  return bs
    .map((b) => {
      const joined = () => b.lines.map(inline).join("<br>");
      switch (b.kind) {
        case "code":
          return `<pre><code>${escapeHTML(b.lines.join("\n"))}</code></pre>`;
        case "h":
          return `<h${b.level}>${inline(b.lines[0])}</h${b.level}>`;
        case "quote":
          return `<blockquote>${joined()}</blockquote>`;
        case "ul":
        case "ol":
          return `<${b.kind}>${b.lines.map((l) => `<li>${inline(l)}</li>`).join("")}</${b.kind}>`;
        default:
          return single ? joined() : `<p>${joined()}</p>`;
      }
    })
    .join("");
}

/**
 * formatMessage builds m.text content: formatted_body only when the Markdown
 * produced markup beyond what the plain body already says.
 */
export function formatMessage(body: string): { msgtype: "m.text"; body: string; format?: string; formatted_body?: string } {
  const html = markdownToHTML(body);
  const plain = escapeHTML(body.replace(/\r\n?/g, "\n")).replace(/\n/g, "<br>");
  if (html === plain) return { msgtype: "m.text", body };
  return { msgtype: "m.text", body, format: "org.matrix.custom.html", formatted_body: html };
}
