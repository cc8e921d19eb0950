// The top level: language, the stored session, and which screen shows.
import { createContext } from "preact";
import { useContext, useEffect, useMemo, useState } from "preact/hooks";
import type { Session } from "./flows";
import { Lang, pickLang, Translate, translator } from "./i18n";
import { parseLoginCallback } from "./login";
import { clearSession, loadSession, saveSession } from "./session";
import { Auth } from "./ui/Auth";

interface I18n {
  t: Translate;
  lang: Lang;
  setLang: (l: Lang) => void;
}

const I18nContext = createContext<I18n>({ t: translator("en"), lang: "en", setLang: () => {} });
export const useI18n = () => useContext(I18nContext);

const LANG_KEY = "kabar.lang";

type MainModule = typeof import("./chat/Main");

export function App() {
  const [lang, setLangState] = useState<Lang>(() => pickLang(localStorage.getItem(LANG_KEY), navigator.languages ?? []));
  const [session, setSession] = useState<Session | null>(() => loadSession(localStorage));
  const [main, setMain] = useState<MainModule | null>(null);
  const i18n = useMemo<I18n>(
    () => ({
      t: translator(lang),
      lang,
      setLang: (l) => {
        localStorage.setItem(LANG_KEY, l);
        setLangState(l);
      },
    }),
    [lang],
  );

  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  // Already signed in: a login token in the URL is not used, but it must not
  // stay in the address bar or history either.
  useEffect(() => {
    const cb = session && parseLoginCallback(location.href);
    if (cb) history.replaceState(null, "", cb.cleanURL);
  }, []);

  // The chat screen and matrix-js-sdk load only once someone is signed in.
  useEffect(() => {
    if (session && !main) void import("./chat/Main").then((m) => setMain(m));
  }, [session, main]);

  const signedIn = (s: Session) => {
    saveSession(localStorage, s);
    history.replaceState(null, "", location.pathname);
    setSession(s);
  };
  const signedOut = () => {
    clearSession(localStorage);
    setSession(null);
  };

  let screen;
  if (!session) screen = <Auth onSignedIn={signedIn} />;
  else if (!main) screen = <div class="splash" role="status">{i18n.t("main.connecting")}</div>;
  else screen = <main.Main session={session} onSignedOut={signedOut} />;
  return <I18nContext.Provider value={i18n}>{screen}</I18nContext.Provider>;
}
