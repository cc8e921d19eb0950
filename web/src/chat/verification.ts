// Interactive verification by emoji comparison (client-server API,
// "End-to-end encryption": "Key verification framework" and "Short
// Authentication String (SAS) verification"), driven through
// matrix-js-sdk's VerificationRequest and Verifier.
import { VerificationPhase, VerificationRequestEvent, VerifierEvent } from "matrix-js-sdk/lib/crypto-api";
import type { ShowSasCallbacks, VerificationRequest, Verifier } from "matrix-js-sdk/lib/crypto-api";

/** The SAS method name (spec: "m.sas.v1"). */
export const SAS = "m.sas.v1";

export type VerifyView =
  | { step: "incoming" }
  | { step: "waitingAccept" }
  | { step: "waitingStart" }
  | { step: "compare"; emoji: [string, string][]; confirmed: boolean }
  | { step: "done" }
  | { step: "cancelled"; reason?: string };

/**
 * followRequest drives one verification request to its end and reports what
 * to show. The requester starts SAS once the other side is ready; the other
 * side picks up the verifier when the start arrives. Both then wait in
 * verify() while the user compares the emoji. It returns an unsubscribe.
 */
export function followRequest(req: VerificationRequest, onView: (v: VerifyView) => void, confirmedRef: { current: boolean }): () => void {
  let verifier: Verifier | undefined;
  let sas: ShowSasCallbacks | null = null;
  let starting = false;
  const onSas = (s: ShowSasCallbacks) => {
    sas = s;
    update();
  };
  const attach = (v: Verifier) => {
    if (verifier) return;
    verifier = v;
    v.on(VerifierEvent.ShowSas, onSas);
    // verify() settles when the flow ends; the phase change reports how.
    v.verify().catch((e: unknown) => console.warn("kabar: verification ended", e));
    const now = v.getShowSasCallbacks();
    if (now) onSas(now);
  };
  const update = () => {
    switch (req.phase) {
      case VerificationPhase.Unsent:
      case VerificationPhase.Requested:
        return onView({ step: req.initiatedByMe ? "waitingAccept" : "incoming" });
      case VerificationPhase.Ready:
        if (req.initiatedByMe && !starting) {
          starting = true;
          req.startVerification(SAS).then(attach, (e: unknown) => onView({ step: "cancelled", reason: String(e) }));
        }
        return onView({ step: "waitingStart" });
      case VerificationPhase.Started:
        if (!verifier && req.verifier) attach(req.verifier);
        if (sas?.sas.emoji) return onView({ step: "compare", emoji: sas.sas.emoji, confirmed: confirmedRef.current });
        return onView({ step: "waitingStart" });
      case VerificationPhase.Done:
        return onView({ step: "done" });
      case VerificationPhase.Cancelled:
        return onView({ step: "cancelled", reason: req.cancellationCode ?? undefined });
    }
  };
  req.on(VerificationRequestEvent.Change, update);
  update();
  return () => {
    req.off(VerificationRequestEvent.Change, update);
    verifier?.off(VerifierEvent.ShowSas, onSas);
  };
}

/** sasOf returns the current SAS callbacks of a request, if showing emoji. */
export function sasOf(req: VerificationRequest): ShowSasCallbacks | null {
  return req.verifier?.getShowSasCallbacks() ?? null;
}
