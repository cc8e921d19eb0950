// Form checks done before asking the server, so mistakes show at once.
import type { MessageKey } from "./i18n";

export const MIN_PASSWORD = 8;
// A user ID may be at most 255 characters (appendices "User Identifiers");
// leave room for "@" + ":" + a server name.
const MAX_LOCALPART = 200;
// Allowed localpart characters for new accounts (appendices "User Identifiers").
const LOCALPART = /^[a-z0-9._=\-/+]+$/;

export interface RegisterForm {
  username: string;
  password: string;
  confirm: string;
  token: string;
  needsToken: boolean;
}

export type FieldErrors = Partial<Record<"username" | "password" | "confirm" | "token", MessageKey>>;

/** normalizeUsername accepts "alice", "@alice" or "@alice:server" for sign-in. */
export function normalizeUsername(raw: string): string {
  return raw.trim();
}

export function validateLogin(username: string, password: string): FieldErrors {
  const errs: FieldErrors = {};
  if (!username.trim()) errs.username = "validate.usernameRequired";
  if (!password) errs.password = "validate.passwordRequired";
  return errs;
}

export function validateRegister(f: RegisterForm): FieldErrors {
  const errs: FieldErrors = {};
  const u = f.username.trim();
  if (!u) errs.username = "validate.usernameRequired";
  else if (u.length > MAX_LOCALPART) errs.username = "validate.usernameLong";
  else if (!LOCALPART.test(u)) errs.username = "validate.usernameChars";
  if (!f.password) errs.password = "validate.passwordRequired";
  else if (f.password.length < MIN_PASSWORD) errs.password = "validate.passwordShort";
  if (f.password && f.confirm !== f.password) errs.confirm = "validate.passwordMismatch";
  if (f.needsToken && !f.token.trim()) errs.token = "validate.tokenRequired";
  return errs;
}

export function hasErrors(e: FieldErrors): boolean {
  return Object.keys(e).length > 0;
}
