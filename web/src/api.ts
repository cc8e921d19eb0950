// The few client-server API calls made before the SDK loads (sign-in and
// registration), over plain fetch so the first screen stays small.

export type Fetch = typeof fetch;

/** MatrixError is a standard error response (client-server-api "API standards"). */
export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly body: Record<string, unknown> = {},
  ) {
    super(message || errcode);
    this.name = "MatrixError";
  }
  /** retryAfterMs from the body or the Retry-After header, for M_LIMIT_EXCEEDED. */
  get retryAfterMs(): number | undefined {
    const v = this.body["retry_after_ms"];
    return typeof v === "number" ? v : undefined;
  }
}

/** NetworkError means no HTTP answer at all (DNS, refused, CORS, offline). */
export class NetworkError extends Error {
  constructor(readonly cause: unknown) {
    super("network error");
    this.name = "NetworkError";
  }
}

export interface Response<T> {
  status: number;
  body: T;
}

/** requestJSON sends one request and parses the JSON answer, whatever the status. */
export async function requestJSON<T = Record<string, unknown>>(
  fetchFn: Fetch,
  url: string,
  init: { method?: string; body?: unknown; accessToken?: string } = {},
): Promise<Response<T>> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  if (init.accessToken) headers["Authorization"] = `Bearer ${init.accessToken}`;
  let res: globalThis.Response;
  try {
    res = await fetchFn(url, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch (e) {
    throw new NetworkError(e);
  }
  let body: unknown = {};
  const text = await res.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = {};
    }
  }
  return { status: res.status, body: body as T };
}

/** toError turns a non-2xx answer into a MatrixError. */
export function toError(res: Response<unknown>): MatrixError {
  const b = (res.body && typeof res.body === "object" ? res.body : {}) as Record<string, unknown>;
  const code = typeof b.errcode === "string" ? b.errcode : `HTTP_${res.status}`;
  const msg = typeof b.error === "string" ? b.error : "";
  return new MatrixError(res.status, code, msg, b);
}

/** clientURL joins a base URL and a /_matrix/client path. */
export function clientURL(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, "") + "/_matrix/client" + path;
}
