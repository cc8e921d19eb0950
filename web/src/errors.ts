// errorMessage turns anything thrown into a sentence for the user.
import { MatrixError, NetworkError } from "./api";
import { DiscoveryError, displayHost } from "./homeserver";
import { hasKey, Translate } from "./i18n";

export type ErrorContext = "login" | "register" | "jwt" | "sso" | "general";

export function errorMessage(t: Translate, err: unknown, ctx: ErrorContext = "general"): string {
  if (err instanceof NetworkError) return t("error.network");
  if (err instanceof DiscoveryError) return t("error.discovery", { server: displayHost(err.server) });
  const code = errcodeOf(err);
  if (!code) return t("error.unknown", { code: err instanceof Error ? err.message : String(err) });
  if (code === "KABAR_UNSUPPORTED_FLOWS") return t("auth.unsupportedFlows", { stages: (err as Error).message });
  if (code === "M_LIMIT_EXCEEDED") {
    const ms = retryAfter(err);
    return t("error.M_LIMIT_EXCEEDED", { seconds: Math.max(1, Math.ceil(ms / 1000)) });
  }
  const specific = `error.${code}.${ctx}`;
  if (hasKey(specific)) return t(specific);
  const general = `error.${code}`;
  if (hasKey(general)) return t(general);
  const serverText = err instanceof Error && err.message && err.message !== code ? `: ${err.message}` : "";
  return t("error.unknown", { code: code + serverText });
}

/** errcodeOf reads an errcode from our MatrixError or the SDK's MatrixError. */
export function errcodeOf(err: unknown): string | undefined {
  if (err instanceof MatrixError) return err.errcode;
  if (err && typeof err === "object" && "errcode" in err && typeof (err as { errcode: unknown }).errcode === "string")
    return (err as { errcode: string }).errcode;
  return undefined;
}

function retryAfter(err: unknown): number {
  if (err instanceof MatrixError) return err.retryAfterMs ?? 1000;
  const data = (err as { data?: { retry_after_ms?: number } }).data;
  return data?.retry_after_ms ?? 1000;
}
