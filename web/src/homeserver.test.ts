import { describe, expect, it } from "vitest";
import { DiscoveryError, discover, parseHomeserver, serverNameOf } from "./homeserver";

describe("parseHomeserver", () => {
  it.each([
    ["matrix.org", { kind: "name", serverName: "matrix.org" }],
    ["  Example.ORG:8448 ", { kind: "name", serverName: "example.org:8448" }],
    ["localhost", { kind: "name", serverName: "localhost" }],
    ["[::1]:8008", { kind: "name", serverName: "[::1]:8008" }],
    ["https://matrix.example.org/", { kind: "url", url: "https://matrix.example.org" }],
    ["http://127.0.0.1:8008", { kind: "url", url: "http://127.0.0.1:8008" }],
    ["https://example.org/matrix/", { kind: "url", url: "https://example.org/matrix" }],
    ["", null],
    ["   ", null],
    ["not a server", null],
    ["ftp://example.org", null],
    ["https://example.org/?x=1", null],
    ["https://user@example.org", null],
    [".example.org", null],
    ["@alice:example.org", null],
  ])("%j", (input, want) => {
    expect(parseHomeserver(input)).toEqual(want);
  });
});

describe("serverNameOf", () => {
  it.each([
    ["@alice:example.org", "example.org"],
    ["@bob:Example.org:8448", "example.org:8448"],
    ["alice", null],
    ["@alice", null],
  ])("%s", (id, want) => expect(serverNameOf(id)).toBe(want));
});

/** fakeFetch answers from a table of URL -> [status, body]; anything else is a network error. */
function fakeFetch(routes: Record<string, [number, unknown]>) {
  const calls: string[] = [];
  const fn = (async (input: RequestInfo | URL) => {
    const url = String(input);
    calls.push(url);
    const r = routes[url];
    if (!r) throw new TypeError("Failed to fetch");
    return new Response(JSON.stringify(r[1]), { status: r[0] });
  }) as typeof fetch;
  return { fn, calls };
}

const versions: [number, unknown] = [200, { versions: ["v1.12"] }];

describe("discover", () => {
  it("follows .well-known for a server name", async () => {
    const { fn } = fakeFetch({
      "https://example.org/.well-known/matrix/client": [200, { "m.homeserver": { base_url: "https://matrix.example.org/" } }],
      "https://matrix.example.org/_matrix/client/versions": versions,
    });
    expect(await discover(fn, { kind: "name", serverName: "example.org" })).toBe("https://matrix.example.org");
  });

  it("uses https://name when .well-known is 404", async () => {
    const { fn } = fakeFetch({
      "https://example.org/.well-known/matrix/client": [404, {}],
      "https://example.org/_matrix/client/versions": versions,
    });
    expect(await discover(fn, { kind: "name", serverName: "example.org" })).toBe("https://example.org");
  });

  it("fails when .well-known is broken (FAIL_PROMPT)", async () => {
    const { fn } = fakeFetch({
      "https://example.org/.well-known/matrix/client": [200, { "m.homeserver": {} }],
    });
    await expect(discover(fn, { kind: "name", serverName: "example.org" })).rejects.toBeInstanceOf(DiscoveryError);
  });

  it("fails when the base URL serves no client API (FAIL_ERROR)", async () => {
    const { fn } = fakeFetch({
      "https://example.org/.well-known/matrix/client": [200, { "m.homeserver": { base_url: "https://hs.example.org" } }],
      "https://hs.example.org/_matrix/client/versions": [404, {}],
    });
    await expect(discover(fn, { kind: "name", serverName: "example.org" })).rejects.toBeInstanceOf(DiscoveryError);
  });

  it("takes a URL that answers /versions as it is", async () => {
    const { fn, calls } = fakeFetch({ "http://127.0.0.1:8008/_matrix/client/versions": versions });
    expect(await discover(fn, { kind: "url", url: "http://127.0.0.1:8008" })).toBe("http://127.0.0.1:8008");
    expect(calls).toHaveLength(1);
  });

  it("tries the .well-known of a URL that is not itself a homeserver", async () => {
    const { fn } = fakeFetch({
      "https://example.org/.well-known/matrix/client": [200, { "m.homeserver": { base_url: "https://hs.example.org" } }],
      "https://hs.example.org/_matrix/client/versions": versions,
    });
    expect(await discover(fn, { kind: "url", url: "https://example.org" })).toBe("https://hs.example.org");
  });
});
