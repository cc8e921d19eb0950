import { useI18n } from "../app";
import { Lang, languages } from "../i18n";

export function LanguagePicker() {
  const { t, lang, setLang } = useI18n();
  return (
    <select class="lang" aria-label={t("settings.language")} value={lang}
      onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
      {languages.map((l) => (
        <option key={l.code} value={l.code}>{l.name}</option>
      ))}
    </select>
  );
}
