import { describe, expect, it } from "vitest";
import { formatMessage, markdownToHTML } from "./markdown";

describe("markdownToHTML", () => {
  it.each([
    ["plain", "plain"],
    ["a <b> & c", "a &lt;b&gt; &amp; c"],
    ["**bold** and *em*", "<strong>bold</strong> and <em>em</em>"],
    ["snake_case_name stays", "snake_case_name stays"],
    ["2 * 3 * 4", "2 * 3 * 4"],
    ["~~gone~~", "<del>gone</del>"],
    ["`a <b> **c**`", "<code>a &lt;b&gt; **c**</code>"],
    ["[site](https://example.org/a?b=1&c=2)", '<a href="https://example.org/a?b=1&amp;c=2">site</a>'],
    ["[x](javascript:alert(1))", "[x](javascript:alert(1))"],
    ["see https://example.org/x.", 'see <a href="https://example.org/x">https://example.org/x</a>.'],
    ["line1\nline2", "line1<br>line2"],
    ["p1\n\np2", "<p>p1</p><p>p2</p>"],
    ["> quoted\n> more", "<blockquote>quoted<br>more</blockquote>"],
    ["- a\n- b", "<ul><li>a</li><li>b</li></ul>"],
    ["1. a\n2. b", "<ol><li>a</li><li>b</li></ol>"],
    ["```\n<x>\n  y\n```", "<pre><code>&lt;x&gt;\n  y</code></pre>"],
    ["# Title", "<h1>Title</h1>"],
  ])("%j", (src, want) => expect(markdownToHTML(src)).toBe(want));
});

describe("formatMessage", () => {
  it("sends plain text without formatted_body", () => {
    expect(formatMessage("hi there\nsecond")).toEqual({ msgtype: "m.text", body: "hi there\nsecond" });
    expect(formatMessage("a < b")).toEqual({ msgtype: "m.text", body: "a < b" });
  });
  it("adds HTML when there is markup", () => {
    expect(formatMessage("**hi**")).toEqual({
      msgtype: "m.text",
      body: "**hi**",
      format: "org.matrix.custom.html",
      formatted_body: "<strong>hi</strong>",
    });
  });
});
