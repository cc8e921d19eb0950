// Sign-in and registration following the flows the server advertises
// (client-server-api "Login" and "User-Interactive Authentication API").
import { clientURL, Fetch, MatrixError, requestJSON, toError } from "./api";

export const PASSWORD = "m.login.password";
export const DUMMY = "m.login.dummy";
export const TOKEN = "m.login.registration_token";
/** Stages this client can complete during registration. */
export const SUPPORTED_STAGES = new Set([DUMMY, TOKEN]);

export interface Flow {
  stages: string[];
}

export interface Session {
  homeserverUrl: string;
  userId: string;
  accessToken: string;
  deviceId: string;
}

/** RegistrationPlan says what the register form must show. */
export type RegistrationPlan =
  | { kind: "ok"; needsToken: boolean }
  | { kind: "closed" }
  | { kind: "unsupported"; stages: string[] };

/** identifierFor builds the m.id.user identifier; a full user ID is sent as given. */
export function identifierFor(username: string) {
  return { type: "m.id.user", user: username.trim() };
}

export interface LoginBody {
  user_id: string;
  access_token: string;
  device_id: string;
  well_known?: { "m.homeserver"?: { base_url?: string } };
}

export function sessionFrom(base: string, b: LoginBody): Session {
  const wk = b.well_known?.["m.homeserver"]?.base_url;
  return {
    homeserverUrl: typeof wk === "string" && /^https?:\/\//.test(wk) ? wk.replace(/\/+$/, "") : base,
    userId: b.user_id,
    accessToken: b.access_token,
    deviceId: b.device_id,
  };
}

/** POST /login with a password. */
export async function passwordLogin(
  fetchFn: Fetch,
  base: string,
  username: string,
  password: string,
  deviceName: string,
): Promise<Session> {
  const res = await requestJSON<LoginBody>(fetchFn, clientURL(base, "/v3/login"), {
    method: "POST",
    body: { type: PASSWORD, identifier: identifierFor(username), password, initial_device_display_name: deviceName },
  });
  if (res.status !== 200) throw toError(res);
  return sessionFrom(base, res.body);
}

/**
 * chooseFlow picks the flow to follow: only flows whose every stage this
 * client can do, the shortest first, and one using the token when the user
 * has one (or avoiding it when they do not).
 */
export function chooseFlow(flows: Flow[], haveToken: boolean): Flow | null {
  const doable = flows.filter((f) => Array.isArray(f.stages) && f.stages.every((s) => SUPPORTED_STAGES.has(s)));
  if (doable.length === 0) return null;
  const score = (f: Flow) => f.stages.length + (f.stages.includes(TOKEN) === haveToken ? 0 : 100);
  return [...doable].sort((a, b) => score(a) - score(b))[0];
}

/** planRegistration turns the probe answer into what the form needs. */
export function planRegistration(status: number, body: Record<string, unknown>): RegistrationPlan {
  if (status === 403 || status === 404 || body.errcode === "M_FORBIDDEN" || body.errcode === "M_UNRECOGNIZED")
    return { kind: "closed" };
  const flows = (Array.isArray(body.flows) ? body.flows : []) as Flow[];
  const noToken = chooseFlow(flows, false);
  if (noToken && !noToken.stages.includes(TOKEN)) return { kind: "ok", needsToken: false };
  if (chooseFlow(flows, true)) return { kind: "ok", needsToken: true };
  const stages = [...new Set(flows.flatMap((f) => f.stages ?? []))].filter((s) => !SUPPORTED_STAGES.has(s));
  return { kind: "unsupported", stages };
}

/**
 * probeRegistration asks the server for its registration flows. Like other
 * clients, it posts an empty body: the server answers 401 with the flows.
 */
export async function probeRegistration(fetchFn: Fetch, base: string): Promise<RegistrationPlan> {
  const res = await requestJSON<Record<string, unknown>>(fetchFn, clientURL(base, "/v3/register?kind=user"), {
    method: "POST",
    body: {},
  });
  if (res.status === 200) return { kind: "ok", needsToken: false };
  return planRegistration(res.status, res.body);
}

export interface RegisterInput {
  username: string;
  password: string;
  token: string;
  deviceName: string;
}

/** authFor builds the auth dict for one stage. */
export function authFor(stage: string, session: string | undefined, token: string): Record<string, unknown> {
  const auth: Record<string, unknown> = { type: stage };
  if (session) auth.session = session;
  if (stage === TOKEN) auth.token = token.trim();
  return auth;
}

/** register runs POST /register through its user-interactive stages. */
export async function register(fetchFn: Fetch, base: string, input: RegisterInput): Promise<Session> {
  const url = clientURL(base, "/v3/register?kind=user");
  const params = {
    username: input.username.trim(),
    password: input.password,
    initial_device_display_name: input.deviceName,
  };
  let res = await requestJSON<Record<string, unknown>>(fetchFn, url, { method: "POST", body: params });
  for (let step = 0; res.status === 401 && step < 5; step++) {
    const b = res.body;
    // A 401 carrying an errcode after we sent auth means that stage failed.
    if (step > 0 && typeof b.errcode === "string") throw toError(res);
    const flow = chooseFlow((b.flows ?? []) as Flow[], input.token.trim() !== "");
    if (!flow) {
      const stages = ((b.flows ?? []) as Flow[]).flatMap((f) => f.stages ?? []);
      throw new MatrixError(401, "KABAR_UNSUPPORTED_FLOWS", stages.join(", "), b);
    }
    const done = (Array.isArray(b.completed) ? b.completed : []) as string[];
    const next = flow.stages.find((s) => !done.includes(s));
    if (!next) throw toError(res);
    const session = typeof b.session === "string" ? b.session : undefined;
    res = await requestJSON(fetchFn, url, {
      method: "POST",
      body: { ...params, auth: authFor(next, session, input.token) },
    });
  }
  if (res.status !== 200) throw toError(res);
  return sessionFrom(base, res.body as unknown as LoginBody);
}
