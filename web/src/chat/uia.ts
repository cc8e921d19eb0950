// User-interactive authentication with a password (client-server API,
// "User-Interactive Authentication API"): call once without auth to learn
// the session, then again with m.login.password if the server offers it.

export interface PasswordAuth {
  type: "m.login.password";
  identifier: { type: "m.id.user"; user: string };
  password: string;
  session?: string;
}

interface UIAError {
  httpStatus?: number;
  data?: { session?: string; flows?: { stages?: string[] }[] };
}

/** UnsupportedUIA: the server wants stages other than a password alone. */
export class UnsupportedUIA extends Error {
  constructor(public stages: string[][]) {
    super(`the server asks for sign-in steps this client can't do: ${stages.map((s) => s.join("+")).join(", ")}`);
    this.name = "UnsupportedUIA";
  }
}

/** isUIA tells a 401 that starts UIA from a plain authentication failure. */
export function isUIA(e: unknown): e is UIAError {
  const err = e as UIAError;
  return err?.httpStatus === 401 && Array.isArray(err.data?.flows);
}

/** withPassword runs call, completing UIA with the password when asked. */
export async function withPassword<T>(userId: string, password: string, call: (auth?: PasswordAuth) => Promise<T>): Promise<T> {
  try {
    return await call(undefined);
  } catch (e) {
    if (!isUIA(e)) throw e;
    const flows = e.data!.flows!.map((f) => f.stages ?? []);
    if (!flows.some((s) => s.length === 1 && s[0] === "m.login.password")) throw new UnsupportedUIA(flows);
    return call({ type: "m.login.password", identifier: { type: "m.id.user", user: userId }, password, session: e.data!.session });
  }
}
