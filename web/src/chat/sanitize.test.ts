import { describe, expect, it } from "vitest";
import { sanitizeHTML } from "./sanitize";

const mxc = (u: string) => "/_matrix/client/v1/media/download/" + u.slice(6);

describe("sanitizeHTML", () => {
  it.each([
    ["<b>bold</b> <i>it</i>", "<b>bold</b> <i>it</i>"],
    ["<script>alert(1)</script>after", "after"],
    ["<SCRIPT src=x></SCRIPT>ok", "ok"],
    ['<img src="x" onerror="alert(1)">', ""],
    ['<img src="mxc://hs/abc" onerror="alert(1)" alt="pic">', '<img src="/_matrix/client/v1/media/download/hs/abc" alt="pic">'],
    ['<a href="javascript:alert(1)">x</a>', "<a>x</a>"],
    ['<a href="https://e.org/?a=1&amp;b=2" onclick="x()">x</a>', '<a href="https://e.org/?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">x</a>'],
    ['<p style="color:red" class="x">t</p>', "<p>t</p>"],
    ["<div><span>unclosed", "<div><span>unclosed</span></div>"],
    ["</b>stray close", "stray close"],
    ["<mx-reply><blockquote>quoted</blockquote></mx-reply>reply", "reply"],
    ["a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"],
    ["&lt;script&gt;", "&lt;script&gt;"],
    ["<!-- hidden --><u>u</u>", "<u>u</u>"],
    ["<iframe src=x><b>in</b></iframe>out", "out"],
    ['<code class="language-go">x</code><code class="evil x">y</code>', '<code class="language-go">x</code><code>y</code>'],
    ['<a href="x" title=\'">\'>q</a>', "<a>q</a>"],
    ["<svg><script>x</script></svg>s", "s"],
    ["<b>x</i></b>", "<b>x</b>"],
  ])("%j", (src, want) => expect(sanitizeHTML(src, { mxcToHttp: mxc })).toBe(want));
});
